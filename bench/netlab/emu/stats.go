package emu

// LinkKey names a directed link by its end hosts.
type LinkKey struct{ From, To string }

func (k LinkKey) String() string { return k.From + "->" + k.To }

// LinkStats counts what one directed link did. Bytes are whole IP packets.
type LinkStats struct {
	OfferedPackets, OfferedBytes     int64 // everything the source host sent on this link
	DeliveredPackets, DeliveredBytes int64 // written to the destination device
	LostPackets                      int64 // random loss
	QueueDropPackets                 int64 // rate limiter's queue full
	DownPackets                      int64 // link down
	WriteErrors                      int64 // destination device refused the packet
	MaxPacket                        int   // largest packet seen (shows whether offloads leaked through)
}

// Sub returns the counts accumulated since earlier. MaxPacket is kept.
func (s LinkStats) Sub(earlier LinkStats) LinkStats {
	return LinkStats{
		OfferedPackets: s.OfferedPackets - earlier.OfferedPackets, OfferedBytes: s.OfferedBytes - earlier.OfferedBytes,
		DeliveredPackets: s.DeliveredPackets - earlier.DeliveredPackets, DeliveredBytes: s.DeliveredBytes - earlier.DeliveredBytes,
		LostPackets: s.LostPackets - earlier.LostPackets, QueueDropPackets: s.QueueDropPackets - earlier.QueueDropPackets,
		DownPackets: s.DownPackets - earlier.DownPackets, WriteErrors: s.WriteErrors - earlier.WriteErrors,
		MaxPacket: s.MaxPacket,
	}
}

// Add returns the sum of two counts; MaxPacket is the larger.
func (s LinkStats) Add(o LinkStats) LinkStats {
	return LinkStats{
		OfferedPackets: s.OfferedPackets + o.OfferedPackets, OfferedBytes: s.OfferedBytes + o.OfferedBytes,
		DeliveredPackets: s.DeliveredPackets + o.DeliveredPackets, DeliveredBytes: s.DeliveredBytes + o.DeliveredBytes,
		LostPackets: s.LostPackets + o.LostPackets, QueueDropPackets: s.QueueDropPackets + o.QueueDropPackets,
		DownPackets: s.DownPackets + o.DownPackets, WriteErrors: s.WriteErrors + o.WriteErrors,
		MaxPacket: max(s.MaxPacket, o.MaxPacket),
	}
}

// LossRate is the fraction of offered packets lost at random, or NaN-free 0
// when nothing was offered.
func (s LinkStats) LossRate() float64 {
	admitted := s.OfferedPackets - s.QueueDropPackets - s.DownPackets
	if admitted <= 0 {
		return 0
	}
	return float64(s.LostPackets) / float64(admitted)
}

// Snapshot is the state of every counter at one moment.
type Snapshot struct {
	Links      map[LinkKey]LinkStats
	Unroutable int64 // packets for no known host, or not IPv4
}

// Sub returns the counts accumulated since earlier.
func (s Snapshot) Sub(earlier Snapshot) Snapshot {
	out := Snapshot{Links: make(map[LinkKey]LinkStats, len(s.Links)), Unroutable: s.Unroutable - earlier.Unroutable}
	for k, v := range s.Links {
		out.Links[k] = v.Sub(earlier.Links[k])
	}
	return out
}

// Total sums the links for which keep returns true (all if keep is nil).
func (s Snapshot) Total(keep func(LinkKey) bool) LinkStats {
	var t LinkStats
	for k, v := range s.Links {
		if keep == nil || keep(k) {
			t = t.Add(v)
		}
	}
	return t
}
