package web

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// rateLimiter is a token bucket per key (a client address): burst tries
// at once, then one more every `every`. It forgets full buckets when it
// holds too many, so its memory stays bounded.
type rateLimiter struct {
	burst float64
	every time.Duration
	clock clock

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// maxBuckets is how many addresses a limiter remembers before it forgets
// those that are back to a full bucket.
const maxBuckets = 10_000

func newRateLimiter(burst int, every time.Duration, clk clock) *rateLimiter {
	return &rateLimiter{burst: float64(burst), every: every, clock: clk, buckets: map[string]*bucket{}}
}

// allow takes a token for key, or says how long until one is free.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.forgetFullLocked(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.every))
}

func (l *rateLimiter) forgetFullLocked(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.at))/float64(l.every) >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// clientAddress is the address a request came from, without its port:
// what rate limits count by. It is the connection's own address; a header
// a client can write is not trusted.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
