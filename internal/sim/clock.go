package sim

import (
	"sync"
	"time"
)

// Clock is the simulator's notion of time: the real time plus an offset.
// It ticks with the wall clock; Advance moves it forward, which is how
// tests expire sessions and move TOTP windows without sleeping.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// NewClock returns a clock that reads start now and then ticks with real
// time. A zero start means the real time.
func NewClock(start time.Time) *Clock {
	c := &Clock{}
	if !start.IsZero() {
		c.offset = time.Until(start)
	}
	return c
}

// Now returns the simulator's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d (backward when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
