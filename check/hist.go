package check

import (
	"math"
	"math/bits"
	"time"
)

// histogram records durations in fixed log-linear buckets, the way
// HdrHistogram does: values below 2·subBuckets nanoseconds are exact, and
// every larger power-of-two range is split into subBuckets equal buckets, so
// a reported percentile is within 1/subBuckets (0.4%) of the recorded value
// it stands for, at any scale, in constant memory. That is finer than wrk's
// own reporting (two decimals of a millisecond), so the two agree on the
// same target. The exact minimum, maximum and sum are kept as well.
type histogram struct {
	counts   []uint64
	n        uint64
	min, max time.Duration
	sum      time.Duration
}

const (
	subBits    = 8
	subBuckets = 1 << subBits // buckets per power of two
	// maxShift covers durations up to 2^63 ns (292 years).
	maxShift = 63 - subBits
	nBuckets = 2*subBuckets + maxShift*subBuckets
)

func newHistogram() *histogram {
	return &histogram{counts: make([]uint64, nBuckets)}
}

// bucketOf returns the bucket index of v (nanoseconds, v >= 0).
func bucketOf(v uint64) int {
	if v < 2*subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1 // v>>shift is in [subBuckets, 2·subBuckets)
	return 2*subBuckets + (shift-1)*subBuckets + int(v>>shift) - subBuckets
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < 2*subBuckets {
		return uint64(i), uint64(i)
	}
	j := i - 2*subBuckets
	shift := j/subBuckets + 1
	m := uint64(j%subBuckets + subBuckets)
	return m << shift, (m+1)<<shift - 1
}

// record adds one duration; a negative one counts as zero.
func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// reset forgets every recorded duration.
func (h *histogram) reset() {
	clear(h.counts)
	h.n, h.min, h.max, h.sum = 0, 0, 0, 0
}

// count is the number of recorded durations.
func (h *histogram) count() uint64 { return h.n }

// mean is the average recorded duration, 0 when none.
func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// quantile returns the duration at quantile q (0.5 for the median, 0.99 for
// p99): the value of rank ceil(q·n) in sorted order, as the middle of its
// bucket, clamped to the exact minimum and maximum. It is 0 when nothing
// was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q <= 0 {
		return h.min
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			v := time.Duration(lo + (hi-lo)/2)
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}
