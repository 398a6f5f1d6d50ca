package upstream

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

// unsized hides a reader's length, as a gzipped response body does.
type unsized struct{ r io.Reader }

func (u unsized) Read(p []byte) (int, error) { return u.r.Read(p) }

func bodyOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/bodyChunk)
	}
	return b
}

// TestReadBody: with and without a known length, through readers that
// return short reads, the body comes back whole, in a buffer of its size.
func TestReadBody(t *testing.T) {
	for _, n := range []int{0, 1, bodyChunk - 1, bodyChunk, bodyChunk + 1, 3*bodyChunk + 17, 1<<20 + 3} {
		want := bodyOf(n)
		readers := map[string]func() io.Reader{
			"sized":      func() io.Reader { return bytes.NewReader(want) },
			"unsized":    func() io.Reader { return unsized{bytes.NewReader(want)} },
			"half reads": func() io.Reader { return unsized{iotest.HalfReader(bytes.NewReader(want))} },
			"data+EOF":   func() io.Reader { return unsized{iotest.DataErrReader(bytes.NewReader(want))} },
		}
		for name, r := range readers {
			rd := r()
			got, err := readBody(rd, sizeHint(rd))
			if err != nil {
				t.Fatalf("%d bytes, %s: %v", n, name, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%d bytes, %s: body differs (%d bytes back)", n, name, len(got))
			}
			if name != "sized" && cap(got) != n {
				t.Errorf("%d bytes, %s: buffer of %d bytes, want exactly the body", n, name, cap(got))
			}
		}
	}
}

func TestReadBodyError(t *testing.T) {
	boom := errors.New("boom")
	r := unsized{io.MultiReader(bytes.NewReader(bodyOf(3*bodyChunk)), iotest.ErrReader(boom))}
	if _, err := readBody(r, 0); !errors.Is(err, boom) {
		t.Fatalf("err %v, want %v", err, boom)
	}
}

// TestReadBodyUnsizedAllocatesTheBodyOnce: a body of unknown length costs
// about its own size in allocations, not the two to three times a
// buffer growing by doubling cost.
func TestReadBodyUnsizedAllocatesTheBodyOnce(t *testing.T) {
	body := bodyOf(4 << 20)
	read := func() {
		if _, err := readBody(unsized{bytes.NewReader(body)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	read() // fill the pool
	var before, after runtime.MemStats
	const runs = 5
	runtime.ReadMemStats(&before)
	for range runs {
		read()
	}
	runtime.ReadMemStats(&after)
	perRun := float64(after.TotalAlloc-before.TotalAlloc) / runs
	if ratio := perRun / float64(len(body)); ratio > 1.3 {
		t.Errorf("allocated %.1fx the body per read, want at most 1.3x", ratio)
	}
}
