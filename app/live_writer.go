package app

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultLiveWriteTimeout is LIVE_WRITE_TIMEOUT's default: how long one
// write of a stream may block before its subscriber counts as gone.
const DefaultLiveWriteTimeout = 30 * time.Second

// errStreamEnded is what a write gets once its stream has ended or failed.
var errStreamEnded = errors.New("stream ended")

// streamWriter is the writer every stream (SSE or WebSocket) is served
// through. It exists for two reasons (issue 18):
//
//   - gqlgen's SSE transport starts a keep-alive goroutine and returns
//     without waiting for it. A write by that goroutine after the handler
//     returned would reach a response whose buffers net/http has already
//     recycled: a nil dereference outside any recover (the process exits),
//     or bytes in another client's response. So once the handler is done,
//     every Write and Flush is refused; the mutex makes "done" and a write
//     in progress exclude each other.
//   - a subscriber that stops reading makes a write block for ever, and
//     its stream holds the event being written (and its slot) as long.
//     Each write and flush has a deadline (LIVE_WRITE_TIMEOUT); one that
//     fails ends the stream (stalled cancels its context). A hijacked
//     connection (WebSocket, both protocols) gets the same deadline on
//     each write to the socket.
//
// It also makes SSE answers private (Cache-Control: private, no-store):
// gqlgen sets no-cache, which lets a shared cache store them.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration // 0: no deadline
	stalled func()        // ends the stream; called once, on the first failed write

	hijacked atomic.Bool
	conn     atomic.Pointer[net.Conn] // the hijacked connection
	evicted  atomic.Bool              // closeConn was called
	failOnce sync.Once

	mu     sync.Mutex
	done   bool  // the handler returned
	failed error // a write failed: the stream is over
	header bool  // headers are final
}

func newStreamWriter(w http.ResponseWriter, timeout time.Duration, stalled func()) *streamWriter {
	return &streamWriter{w: w, rc: http.NewResponseController(w), timeout: timeout, stalled: stalled}
}

func (s *streamWriter) Header() http.Header { return s.w.Header() }

// private is called before the headers are sent.
func (s *streamWriter) private() {
	if !s.header {
		s.header = true
		s.w.Header().Set("Cache-Control", "private, no-store")
	}
}

func (s *streamWriter) WriteHeader(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || s.hijacked.Load() {
		return
	}
	if code != http.StatusSwitchingProtocols {
		s.private()
	}
	s.w.WriteHeader(code)
}

func (s *streamWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || s.failed != nil {
		return 0, errStreamEnded
	}
	s.private()
	s.deadline()
	n, err := s.w.Write(p)
	if err != nil {
		s.fail(err)
	}
	return n, err
}

// Flush is what gqlgen's SSE transport asserts (http.Flusher); FlushError
// is what http.ResponseController calls (the @defer transports).
func (s *streamWriter) Flush() { _ = s.FlushError() }

func (s *streamWriter) FlushError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || s.failed != nil {
		return errStreamEnded
	}
	s.private()
	s.deadline()
	err := s.rc.Flush()
	if err != nil {
		s.fail(err)
	}
	return err
}

// Hijack hands the connection to a WebSocket with a deadline on each of
// its writes.
func (s *streamWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return nil, nil, errStreamEnded
	}
	conn, brw, err := s.rc.Hijack()
	if err != nil {
		return nil, nil, err
	}
	s.hijacked.Store(true)
	s.conn.Store(&conn)
	if s.evicted.Load() { // evicted while the 101 answer was on its way
		_ = conn.Close()
	}
	if s.timeout <= 0 {
		return conn, brw, nil
	}
	dc := &deadlineConn{Conn: conn, timeout: s.timeout}
	// net/http's writer goes straight to conn: replace it (it holds
	// nothing yet, the 101 answer was flushed by Hijack).
	return dc, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(dc, brw.Writer.Size())), nil
}

// Unwrap lets http.ResponseController reach what this writer does not
// offer itself (read deadlines).
func (s *streamWriter) Unwrap() http.ResponseWriter { return s.w }

func (s *streamWriter) deadline() {
	if s.timeout > 0 {
		_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	}
}

func (s *streamWriter) fail(err error) {
	s.failed = err
	s.failOnce.Do(s.stalled)
}

// close marks the handler done: from now on writes are refused. A write
// in progress (a keep-alive behind a blocked event) is cut short by a
// deadline in the past rather than waited for. It must be called before
// the handler returns to net/http.
func (s *streamWriter) close() {
	hijacked := s.hijacked.Load()
	if !s.mu.TryLock() {
		if !hijacked {
			_ = s.rc.SetWriteDeadline(time.Now())
		}
		s.mu.Lock()
	}
	s.done = true
	s.mu.Unlock()
	if !hijacked && s.timeout > 0 {
		// net/http still flushes the end of the response: not for ever.
		_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	}
}

// closeConn closes a hijacked connection at once (a WebSocket whose slot
// was taken: gqlgen does not watch the context before connection_init).
func (s *streamWriter) closeConn() {
	s.evicted.Store(true)
	if c := s.conn.Load(); c != nil {
		_ = (*c).Close()
	}
}

// stalledOut reports whether the stream ended because a write failed or
// stalled.
func (s *streamWriter) stalledOut() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed != nil
}

// deadlineConn puts a deadline on each write to a hijacked connection: a
// WebSocket peer that stops reading fails the write instead of blocking
// it for ever (graphql-ws has no pong to miss).
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	n, err := c.Conn.Write(p)
	if err != nil {
		// A frame cut short leaves the WebSocket unusable, and gqlgen
		// ignores write errors: closing makes its read loop end the
		// connection and its subscriptions.
		_ = c.Conn.Close()
	}
	return n, err
}
