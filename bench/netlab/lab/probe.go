package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/vmdt/vmdt/bench/netlab/stats"
)

// ProbeResult is what a UDP echo probe between two hosts measured.
type ProbeResult struct {
	From, To       string
	Sent, Received int
	RTT            stats.Summary // over the probes that came back
}

// RoundTripLoss is the fraction of probes that did not come back: a probe
// crosses the path twice, so for one-way loss p it is about 1-(1-p)^2.
func (r ProbeResult) RoundTripLoss() float64 {
	if r.Sent == 0 {
		return 0
	}
	return 1 - float64(r.Received)/float64(r.Sent)
}

// OneWayLoss estimates the one-way loss from the round-trip loss,
// assuming equal loss in both directions.
func (r ProbeResult) OneWayLoss() float64 {
	return 1 - math.Sqrt(max(0, 1-r.RoundTripLoss()))
}

const probeSize = 64 // bytes of UDP payload per probe

// Probe sends count UDP echo requests, interval apart, from one host to
// another over the emulated links and measures the round-trip times of the
// replies. It waits for late replies up to wait after the last request.
func (l *Lab) Probe(ctx context.Context, from, to *Host, count int, interval, wait time.Duration) (ProbeResult, error) {
	res := ProbeResult{From: from.Name, To: to.Name}
	var echo, client *net.UDPConn
	if err := to.Do(func() (err error) {
		echo, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(to.Addr, 0)))
		return err
	}); err != nil {
		return res, fmt.Errorf("lab: probe echo socket in %s: %w", to.Name, err)
	}
	defer echo.Close()
	if err := from.Do(func() (err error) {
		client, err = net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(from.Addr, 0)), echo.LocalAddr().(*net.UDPAddr))
		return err
	}); err != nil {
		return res, fmt.Errorf("lab: probe socket in %s: %w", from.Name, err)
	}
	defer client.Close()

	var wg sync.WaitGroup
	defer wg.Wait()
	defer echo.Close()
	wg.Add(1)
	go func() { // echo server, stopped by echo.Close
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, addr, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = echo.WriteToUDPAddrPort(buf[:n], addr)
		}
	}()

	sent := make([]time.Time, count)
	rtts := make([]time.Duration, 0, count)
	seen := make([]bool, count)
	recvDone := make(chan struct{})
	var mu sync.Mutex
	wg.Add(1)
	go func() { // reply reader, stopped by the read deadline or client.Close
		defer wg.Done()
		defer close(recvDone)
		buf := make([]byte, 2048)
		for {
			n, err := client.Read(buf)
			if err != nil {
				return
			}
			now := time.Now()
			if n != probeSize {
				continue
			}
			seq := int(binary.BigEndian.Uint32(buf))
			mu.Lock()
			if seq < count && !seen[seq] && !sent[seq].IsZero() {
				seen[seq] = true
				rtts = append(rtts, now.Sub(sent[seq]))
			}
			got := len(rtts)
			mu.Unlock()
			if got == count {
				return
			}
		}
	}()

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	pkt := make([]byte, probeSize)
	for i := range count {
		binary.BigEndian.PutUint32(pkt, uint32(i))
		mu.Lock()
		sent[i] = time.Now()
		mu.Unlock()
		if _, err := client.Write(pkt); err != nil && !errors.Is(err, net.ErrClosed) {
			return res, fmt.Errorf("lab: probe %s->%s: %w", from.Name, to.Name, err)
		}
		res.Sent++
		if i < count-1 {
			select {
			case <-ticker.C:
			case <-ctx.Done():
				return res, ctx.Err()
			}
		}
	}
	_ = client.SetReadDeadline(time.Now().Add(wait))
	select {
	case <-recvDone:
	case <-ctx.Done():
		client.Close()
		<-recvDone
		return res, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	res.Received = len(rtts)
	res.RTT = stats.Summarize(rtts)
	return res, nil
}
