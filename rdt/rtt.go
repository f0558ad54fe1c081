package rdt

import "time"

// Constants of the RTT estimator.
const (
	initialRTO = time.Second            // RFC 6298 (2.1), before any sample
	clockGrain = time.Millisecond       // G of RFC 6298: the timer granularity
	initialRTT = 100 * time.Millisecond // used for loss timing before any sample
)

// rttEstimator keeps the smoothed round-trip time and its variation as
// RFC 6298 does, plus the minimum and latest samples that loss detection
// and congestion control use. Samples come from datagrams that were sent
// once (every transmission has its own sequence number), so Karn's
// ambiguity does not arise.
type rttEstimator struct {
	has    bool
	srtt   time.Duration
	rttvar time.Duration
	latest time.Duration
	min    time.Duration
}

// sample feeds one RTT measurement. ackDelay is the delay the receiver
// reports between receiving the datagram and sending the ACK; it is
// subtracted when that does not take the sample below the minimum, as in
// RFC 9002.
func (r *rttEstimator) sample(rtt, ackDelay time.Duration) {
	if rtt <= 0 {
		rtt = time.Microsecond
	}
	r.latest = rtt
	if !r.has {
		r.has = true
		r.min = rtt
		r.srtt = rtt
		r.rttvar = rtt / 2
		return
	}
	r.min = min(r.min, rtt)
	adj := rtt
	if ackDelay > 0 && rtt-ackDelay >= r.min {
		adj = rtt - ackDelay
	}
	d := r.srtt - adj
	if d < 0 {
		d = -d
	}
	r.rttvar = (3*r.rttvar + d) / 4
	r.srtt = (7*r.srtt + adj) / 8
}

// rto returns the retransmission timeout without backoff:
// SRTT + max(G, 4·RTTVAR) + maxAckDelay, within [minRTO, maxRTO]. The
// peer's ack delay is added because a receiver may legitimately hold an
// ACK that long.
func (r *rttEstimator) rto(minRTO, maxRTO, maxAckDelay time.Duration) time.Duration {
	v := initialRTO
	if r.has {
		v = r.srtt + max(clockGrain, 4*r.rttvar) + maxAckDelay
	}
	return min(max(v, minRTO), maxRTO)
}

// lossDelay is the time threshold of loss detection: 9/8 of the larger of
// the smoothed and latest RTT, at least clockGrain.
func (r *rttEstimator) lossDelay() time.Duration {
	base := initialRTT
	if r.has {
		base = max(r.srtt, r.latest)
	}
	return max(base*9/8, clockGrain)
}
