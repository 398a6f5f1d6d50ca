// Package flighttest lets a test know when a caller of flight.Group.Do is
// waiting, so that it can release a call only once every follower has
// joined it, without sleeping. It is for tests only.
package flighttest

import (
	"context"
	"sync"
)

// Context returns a context that behaves as parent, and a channel closed
// once a caller of flight.Group.Do given that context waits for a call: Do
// watches its context's Done channel only after it has joined or started
// the call. Nothing else may ask the context for Done before Do does.
func Context(parent context.Context) (context.Context, <-chan struct{}) {
	w := &watched{Context: parent, waiting: make(chan struct{})}
	return w, w.waiting
}

type watched struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func (w *watched) Done() <-chan struct{} {
	w.once.Do(func() { close(w.waiting) })
	return w.Context.Done()
}
