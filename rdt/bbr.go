package rdt

import "time"

// Congestion control is a delivery-rate model in the style of BBR v1
// (Cardwell et al., "BBR: Congestion-Based Congestion Control", 2016):
//
//   - btlbw, the bottleneck bandwidth, is the largest delivery rate sampled
//     over the last 10 round trips;
//   - minRTT is the smallest RTT sampled over the last 10 seconds;
//   - the pacing rate is pacingGain × btlbw and the congestion window is
//     cwndGain × btlbw × minRTT plus three send quanta (for ACK
//     aggregation and timer slack);
//   - Startup doubles the rate every round trip (gain 2.885) until btlbw
//     grows by less than 25% for three rounds, or until a round loses
//     more than 2% while a queue stands (as BBR v2 does, but only with
//     queueing, so that random loss does not end Startup); Drain empties
//     the queue that built, and ProbeBW cycles the pacing gain through
//     1.25, 0.75, 1, 1, 1, 1, 1, 1, one phase per minRTT.
//
// Loss does not reduce the rate directly. A delivery rate counts only
// datagrams that arrived, so under random loss p plain BBR v1 measures
// (1-p) of what it sends, and for p above 20% its 1.25 probe no longer
// lifts the estimate: throughput decays. To avoid that, the controller
// estimates the random (non-congestive) loss rate and divides rate
// samples by (1 - that rate), capped at 20%. A round's losses count as
// random only when it shows no sign of congestion: neither it nor the
// round before probed for bandwidth (pacing gain above 1), and its
// smallest RTT sample stayed within 1/8 of minRTT (+ 100 µs), so no queue
// was standing. Losses in a round with a standing queue count as
// congestive (zero random loss), so the correction fades as soon as loss
// comes with queueing. Loss at
// a bottleneck with a deep buffer therefore reduces the estimate as in
// BBR v1; loss at a policer or a shallow buffer, which raises no queue,
// is mistaken for random loss, and the 20% cap bounds the resulting
// overshoot to 1/(1-0.2) = 1.25 times the delivery rate.
//
// Limits: there is no ProbeRTT phase (minRTT simply expires after 10 s and
// is re-learned from the next sample), no explicit reaction to loss beyond
// the above, and the model is per session, so several sessions to peers
// behind one bottleneck compete as separate BBR flows do.

type bbrMode uint8

const (
	bbrStartup bbrMode = iota
	bbrDrain
	bbrProbeBW
)

func (m bbrMode) String() string {
	switch m {
	case bbrStartup:
		return "startup"
	case bbrDrain:
		return "drain"
	default:
		return "probe_bw"
	}
}

const (
	bbrHighGain          = 2.885
	bbrDrainGain         = 1 / bbrHighGain
	bbrCwndGain          = 2.0
	bbrBwRounds          = 10
	bbrMinRTTWindow      = 10 * time.Second
	bbrFullBwGrowth      = 1.25
	bbrFullBwRounds      = 3
	bbrInitialCwnd       = 32 // datagrams
	bbrMinCwnd           = 4  // datagrams
	bbrMaxRandomLoss     = 0.2
	bbrLossWeight        = 0.25 // EWMA weight of one loss sample
	bbrLossSampleSize    = 64   // datagrams per update of the loss estimate
	bbrMinCycle          = time.Millisecond
	bbrQueueSlack        = 100 * time.Microsecond
	bbrStartupMaxLoss    = 0.02 // loss rate that, with queueing, ends Startup
	bbrStartupLossEvents = 3    // datagrams lost in the round, at least
	bbrQuantumTime       = 2 * time.Millisecond
	bbrRestartGain       = 1.25 // pacing gain over the last burst's ACK-train rate
	bbrMaxQuantumBytes   = 512 << 10
)

var bbrProbeGains = [8]float64{1.25, 0.75, 1, 1, 1, 1, 1, 1}

// bwFilter is a windowed maximum over the last bbrBwRounds rounds.
type bwFilter struct {
	slot [bbrBwRounds]struct {
		round int64
		v     float64
	}
}

func (f *bwFilter) update(round int64, v float64) {
	s := &f.slot[round%bbrBwRounds]
	if s.round != round {
		s.round, s.v = round, v
	} else if v > s.v {
		s.v = v
	}
}

func (f *bwFilter) get(round int64) float64 {
	var m float64
	for _, s := range f.slot {
		if round-s.round < bbrBwRounds && s.v > m {
			m = s.v
		}
	}
	return m
}

// ackTrain measures the rate at which the ACKs of one burst arrive: the
// bottleneck's rate when the burst left faster than the bottleneck, the
// burst's own rate otherwise. Unlike a delivery-rate sample it leaves out
// the round trip before the first ACK, which dominates a short burst.
type ackTrain struct {
	active         bool
	started        bool
	firstAt        time.Duration // first ACK of the burst
	lastAt         time.Duration
	firstDelivered int64
	rate           float64 // over the whole train so far; 0 until it is long enough
}

// Ack trains shorter than this measure ACK spacing (bunched ACKs from a
// batching link, delayed ACKs) rather than rate.
const (
	bbrTrainMinDatagrams = 8
	bbrTrainMinTime      = time.Millisecond
)

// onTrainAck accounts an ACK that acknowledged new data during a burst.
func (b *bbr) onTrainAck(now time.Duration) {
	t := &b.train
	switch {
	case !t.active:
		return
	case !t.started:
		t.started, t.firstAt, t.lastAt, t.firstDelivered = true, now, now, b.delivered
		return
	case b.minRTT > 0 && now-t.lastAt > b.minRTT/2:
		t.active = false // a gap: loss recovery, or the burst ended
		return
	}
	t.lastAt = now
	d, el := b.delivered-t.firstDelivered, now-t.firstAt
	if d >= int64(bbrTrainMinDatagrams*b.mss) && el >= bbrTrainMinTime {
		// The whole train so far, not its best stretch: ACKs that arrive
		// bunched (a batching link, delayed ACKs) inflate short stretches.
		t.rate = float64(d) / el.Seconds()
	}
}

// rateSample collects, over the datagrams one ACK acknowledges, what the
// delivery-rate estimate needs (draft-cheng-iccrg-delivery-rate-estimation).
type rateSample struct {
	valid          bool
	priorDelivered int64
	priorTime      time.Duration
	sendElapsed    time.Duration
	sent           time.Duration
	appLimited     bool
	rtt            time.Duration
	acked, lost    int64
}

// bbr is the congestion controller of one session. All quantities are in
// bytes and bytes per second. It is pure: the session calls it with the
// current time.
type bbr struct {
	mss  int
	mode bbrMode

	// Delivery-rate accounting.
	delivered       int64
	lost            int64
	deliveredTime   time.Duration
	firstSentTime   time.Duration
	appLimitedUntil int64 // delivered count that ends the app-limited period; 0 = none
	rs              rateSample

	// Model.
	bw          bwFilter
	round       int64
	nextRound   int64
	minRTT      time.Duration
	minRTTStamp time.Duration
	fullBw      float64
	fullBwCount int
	filledPipe  bool
	cycleIdx    int
	cycleStamp  time.Duration
	lossRate    float64 // estimated random loss, EWMA
	roundAcked  int64
	roundLost   int64
	roundProbed bool // pacing gain exceeded 1 during this round
	quietRounds int  // consecutive rounds, this one included, without probing
	roundMinRTT time.Duration
	sampleTotal int64 // bytes acknowledged or lost in the current loss sample
	sampleLost  int64

	// Message bursts (onRestart): how fast the ACKs of the current burst
	// come back, and that rate from the last burst that measured it.
	train     ackTrain
	trainRate float64

	pacingGain, cwndGain float64
	pacingRate           float64
	pacedByBw            bool // pacingRate derives from a bandwidth sample
	cwnd                 int
}

func newBBR(mss int) *bbr {
	b := &bbr{mss: mss, mode: bbrStartup, pacingGain: bbrHighGain, cwndGain: bbrHighGain}
	b.cwnd = bbrInitialCwnd * mss
	b.setPacingRate()
	return b
}

func (b *bbr) btlBw() float64 { return b.bw.get(b.round) }

// bdp returns gain × btlbw × minRTT, or the initial window while either is
// unknown.
func (b *bbr) bdp(gain float64) int {
	bw := b.btlBw()
	if bw == 0 || b.minRTT == 0 {
		return bbrInitialCwnd * b.mss
	}
	return int(gain * bw * b.minRTT.Seconds())
}

// quantum is the burst the pacer may send at once: 2 ms at the pacing
// rate, between 2 datagrams and 512 KiB. Go's timers on Linux wake about
// 1 ms late (the netpoller sleeps in whole milliseconds), so a smaller
// burst would cap the rate at burst per millisecond.
func (b *bbr) quantum() int {
	q := int(b.pacingRate * bbrQuantumTime.Seconds())
	return min(max(q, 2*b.mss), bbrMaxQuantumBytes)
}

// onSent stamps a datagram with the delivery state at send time.
func (b *bbr) onSent(p *sentPacket, now time.Duration, inflightBefore int) {
	if inflightBefore == 0 {
		b.firstSentTime = now
		b.deliveredTime = now
	}
	p.delivered = b.delivered
	p.deliveredTime = b.deliveredTime
	p.firstSent = b.firstSentTime
	p.lostAtSend = b.lost
	p.appLimited = b.appLimitedUntil != 0
}

// setAppLimited marks the flow as limited by the application (nothing to
// send although the window and pacer allow it), so that the rate samples
// this produces do not lower btlbw.
func (b *bbr) setAppLimited(inflight int) {
	b.appLimitedUntil = max(b.delivered+int64(inflight), 1)
}

// onRestart is called when a datagram leaves with nothing in flight,
// after the application had nothing to send. Message traffic is like
// that: a short burst per message. A rate sample can only measure what
// was sent, and a burst shorter than a round trip measures less than its
// own rate, so btlbw learned from short messages stays far below what the
// path carries, and pacing at it would stretch every message. Until the
// first ACK of the burst, the pacer therefore runs at least at the
// Startup gain times cwnd / minRTT, with cwnd at least the initial
// window: a message of up to one window leaves in about a third of a
// round trip, as the first burst on a new session does, instead of being
// spread over round trips at a rate it could never measure. cwnd still
// bounds the burst, as in Startup, and the first ACK brings both back to
// the estimates. In ProbeBW the gain cycle restarts at its 1.25 probing phase.
// The burst's own samples count only where they raise btlbw.
func (b *bbr) onRestart(now time.Duration) {
	// The burst's rate samples start with an empty pipe and understate
	// the path: mark them application-limited, as the delivery-rate draft
	// does for a sender that went idle.
	b.setAppLimited(0)
	if b.mode == bbrProbeBW {
		b.cycleIdx = 0
		b.cycleStamp = now
		b.pacingGain = bbrProbeGains[0]
		b.setPacingRate()
	}
	if b.train.rate > 0 {
		b.trainRate = b.train.rate
	}
	b.train = ackTrain{active: true}
	if b.minRTT > 0 {
		b.pacingRate = max(b.pacingRate, float64(b.cwnd)/(2*b.minRTT.Seconds()), bbrRestartGain*b.trainRate)
	}
}

// onAcked accounts one newly acknowledged datagram that was in flight.
func (b *bbr) onAcked(p *sentPacket, now time.Duration) {
	size := int64(p.size)
	b.delivered += size
	b.deliveredTime = now
	rs := &b.rs
	rs.acked += size
	if !rs.valid || p.delivered > rs.priorDelivered || (p.delivered == rs.priorDelivered && p.sent > rs.sent) {
		rs.valid = true
		rs.priorDelivered = p.delivered
		rs.priorTime = p.deliveredTime
		rs.sendElapsed = p.sent - p.firstSent
		rs.sent = p.sent
		rs.appLimited = p.appLimited
		rs.rtt = now - p.sent
		b.firstSentTime = p.sent
	}
}

// onLost accounts one datagram declared lost.
func (b *bbr) onLost(p *sentPacket) {
	b.lost += int64(p.size)
	b.rs.lost += int64(p.size)
}

// onAckEnd updates the model after all datagrams of one ACK were
// accounted. inflight is the number of bytes still in flight.
func (b *bbr) onAckEnd(now time.Duration, inflight int) {
	rs := b.rs
	b.rs = rateSample{}
	if b.appLimitedUntil != 0 && b.delivered > b.appLimitedUntil {
		b.appLimitedUntil = 0
	}
	b.roundAcked += rs.acked
	b.roundLost += rs.lost
	if rs.acked > 0 {
		b.onTrainAck(now)
	}
	if !rs.valid {
		return
	}
	roundStart := false
	if rs.priorDelivered >= b.nextRound {
		b.nextRound = b.delivered
		b.round++
		roundStart = true
		b.endRound()
	}
	if rs.rtt > 0 && (b.roundMinRTT == 0 || rs.rtt < b.roundMinRTT) {
		b.roundMinRTT = rs.rtt
	}
	if rs.rtt > 0 && (b.minRTT == 0 || rs.rtt <= b.minRTT || now-b.minRTTStamp > bbrMinRTTWindow) {
		b.minRTT = rs.rtt
		b.minRTTStamp = now
	}
	interval := max(rs.sendElapsed, b.deliveredTime-rs.priorTime)
	if delivered := b.delivered - rs.priorDelivered; delivered > 0 && interval > 0 && interval >= b.minRTT {
		bw := float64(delivered) / interval.Seconds()
		bw /= 1 - min(b.lossRate, bbrMaxRandomLoss)
		if !rs.appLimited || bw >= b.btlBw() {
			b.bw.update(b.round, bw)
		}
	}
	if roundStart && !b.filledPipe && !rs.appLimited {
		if bw := b.btlBw(); bw >= b.fullBw*bbrFullBwGrowth {
			b.fullBw = bw
			b.fullBwCount = 0
		} else if b.fullBwCount++; b.fullBwCount >= bbrFullBwRounds {
			b.filledPipe = true
		}
	}
	switch b.mode {
	case bbrStartup:
		if b.filledPipe {
			b.mode = bbrDrain
			b.pacingGain, b.cwndGain = bbrDrainGain, bbrHighGain
		}
	case bbrDrain:
		if inflight <= b.bdp(1) {
			b.mode = bbrProbeBW
			b.cycleIdx = 2 // start cruising; the next probe comes after a full cycle
			b.cycleStamp = now
			b.pacingGain, b.cwndGain = bbrProbeGains[b.cycleIdx], bbrCwndGain
		}
	case bbrProbeBW:
		if now-b.cycleStamp > max(b.minRTT, bbrMinCycle) {
			b.cycleIdx = (b.cycleIdx + 1) % len(bbrProbeGains)
			b.cycleStamp = now
			b.pacingGain = bbrProbeGains[b.cycleIdx]
		}
	}
	if b.pacingGain > 1 {
		b.roundProbed = true
	}
	b.setPacingRate()
	b.setCwnd(rs.acked)
}

// endRound closes a round trip. A round in ProbeBW that did not probe
// for bandwidth, after one that did not either (losses caused by a probe
// are often detected a round later), adds its datagrams to the
// random-loss sample, and its losses too unless a queue stood (then they
// count as congestive). Every bbrLossSampleSize datagrams the sample
// updates the estimate; small rounds alone would bias it, since losses
// cluster at the end of short messages. In Startup, a round that lost
// more than 2% while a queue stood ends Startup: loss with queueing is
// congestion, so the pipe is full.
func (b *bbr) endRound() {
	if b.roundProbed {
		b.quietRounds = 0
	} else {
		b.quietRounds++
	}
	n := b.roundAcked + b.roundLost
	queueing := b.roundMinRTT > b.minRTT+b.minRTT/8+bbrQueueSlack
	switch {
	case b.mode == bbrProbeBW && b.quietRounds >= 2:
		b.sampleTotal += n
		if !queueing {
			b.sampleLost += b.roundLost
		}
		if b.sampleTotal >= int64(bbrLossSampleSize*b.mss) {
			b.lossRate += bbrLossWeight * (float64(b.sampleLost)/float64(b.sampleTotal) - b.lossRate)
			b.sampleTotal, b.sampleLost = 0, 0
		}
	case b.mode == bbrStartup && queueing && b.roundLost >= int64(bbrStartupLossEvents*b.mss) &&
		float64(b.roundLost) > bbrStartupMaxLoss*float64(n):
		b.filledPipe = true
	}
	b.roundAcked, b.roundLost, b.roundMinRTT = 0, 0, 0
	b.roundProbed = b.pacingGain > 1
}

func (b *bbr) setPacingRate() {
	bw := b.btlBw()
	if bw == 0 {
		// No bandwidth sample yet: the initial window per RTT (1 ms before
		// the first RTT sample), at Startup gain.
		rtt := b.minRTT
		if rtt == 0 {
			rtt = time.Millisecond
		}
		b.pacingRate = bbrHighGain * float64(bbrInitialCwnd*b.mss) / rtt.Seconds()
		return
	}
	rate := b.pacingGain * bw
	if !b.filledPipe && b.pacedByBw && rate < b.pacingRate {
		return // never slow down during Startup
	}
	b.pacingRate = rate
	b.pacedByBw = true
}

func (b *bbr) setCwnd(acked int64) {
	target := b.bdp(b.cwndGain) + 3*b.quantum()
	switch {
	case b.filledPipe:
		b.cwnd = min(b.cwnd+int(acked), target)
	case b.cwnd < target || b.delivered < int64(bbrInitialCwnd*b.mss):
		b.cwnd += int(acked)
	}
	b.cwnd = max(b.cwnd, bbrMinCwnd*b.mss)
}
