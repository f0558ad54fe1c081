package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/vmdt/vmdt/protocol/ctl"
)

// nopDataPlane accepts every peer and keeps nothing, for long fuzz runs.
type nopDataPlane struct{}

func (nopDataPlane) UDPPort() int                                   { return 4000 }
func (nopDataPlane) AddPeer(net.Addr, uint32, [32]byte, bool) error { return nil }

// nopPool is a Delivery and SharePool that accepts everything and holds
// nothing.
type nopPool struct{}

func (nopPool) RelayOpen(context.Context, peer.ID, *ctl.RelayOpen) error       { return nil }
func (nopPool) Delivered(context.Context, peer.ID, *ctl.Delivered) error       { return nil }
func (nopPool) SharePoolAdd(context.Context, peer.ID, *ctl.SharePoolAdd) error { return nil }
func (nopPool) SharePoolClaim(context.Context, peer.ID, *ctl.SharePoolClaim) ([]ctl.HeldShare, error) {
	return nil, nil
}

// FuzzLiveStream writes arbitrary bytes into a live control stream. The
// server must answer with well-formed reply lines and end the stream; it
// must not hang or panic, and it must serve a new stream afterwards.
func FuzzLiveStream(f *testing.F) {
	client := newHost(f, 1)
	server := newHost(f, 2)
	svc, err := New(server, nopDataPlane{}, &Config{
		LineRate:          1e9,
		LineBurst:         1 << 30,
		MaxStreamsPerPeer: 1 << 10,
		LineTimeout:       5 * time.Second,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { svc.Close() })
	svc.SetDelivery(nopPool{})
	connect(f, client, server)
	me, err := ddtAddrOf(client.ID())
	if err != nil {
		f.Fatal(err)
	}
	you := svc.Self()

	f.Add([]byte(getInfoLine(me, you)))
	f.Add([]byte(fmt.Sprintf("REGISTER_P2P_PORT|%s|4001\nGET_CLIENT_INFO|%s|%s\n", me, me, me)))
	f.Add([]byte(fmt.Sprintf("CREATE_CLUSTER|%s|3|2\n", me)))
	f.Add([]byte(fmt.Sprintf("JOIN_CLUSTER|%s|0123456789abcdef0123456789abcdef\n", me)))
	f.Add([]byte(fmt.Sprintf("SHARE_POOL_ADD|0102030405060708|%s|%s|%s|1|2|2|4096|AA\nSHARE_POOL_CLAIM|*|%s\n",
		me, you, server.ID(), me)))
	f.Add([]byte(fmt.Sprintf("SHARE_POOL_CLAIM|0102030405060708|%s\nSHARE_POOL_CLAIM|*|%s\n", me, you)))
	f.Add([]byte("NOPE\nNOPE\nNOPE\nNOPE\n"))
	f.Add([]byte(strings.Repeat("x", 5000)))
	f.Add([]byte("GET_CLIENT_INFO|\r\n"))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		st, err := client.NewStream(ctx, server.ID(), ProtocolID)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Reset()
		_ = st.SetDeadline(time.Now().Add(20 * time.Second))
		wrote := make(chan error, 1)
		go func() {
			_, err := st.Write(data)
			if err == nil {
				err = st.CloseWrite()
			}
			wrote <- err
		}()
		r := bufio.NewReaderSize(st, 1<<16)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				if isTimeout(err) {
					t.Fatalf("server neither answered nor closed: %v", err)
				}
				if errors.Is(err, io.EOF) && line != "" {
					t.Fatalf("unterminated reply %q", line)
				}
				break
			}
			checkReplyLine(t, strings.TrimSuffix(line, "\n"))
		}
		<-wrote // the server may have closed before reading everything

		// The server still serves.
		st2, err := client.NewStream(ctx, server.ID(), ProtocolID)
		if err != nil {
			t.Fatal(err)
		}
		defer st2.Reset()
		_ = st2.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := st2.Write([]byte(getInfoLine(me, you))); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(st2).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "OK|") {
			t.Fatalf("fresh stream after fuzz input: %q, %v", line, err)
		}
	})
}

// checkReplyLine fails unless line is a reply or item line of the grammar.
func checkReplyLine(t *testing.T, line string) {
	t.Helper()
	var err error
	switch {
	case line == "OK":
	case strings.HasPrefix(line, "ERR|"):
		_, err = ctl.ParseError(line)
	case strings.HasPrefix(line, "OK|"), strings.HasPrefix(line, "MEMBER|"), strings.HasPrefix(line, "SHARE|"):
		if len(line) >= ctl.MaxLineLen {
			err = fmt.Errorf("line of %d bytes", len(line)+1)
		}
	default:
		err = errors.New("not a reply")
	}
	if err != nil {
		t.Fatalf("server sent %q: %v", line, err)
	}
}
