package ratelimit

import (
	"context"
	"net/http"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// TestMeterChargesCalls: calls spend the key's budget; past it Charge
// refuses with RATE_LIMITED and a retry delay; Refused is true only when no
// call was allowed; no meter, or no key, spends nothing.
func TestMeterChargesCalls(t *testing.T) {
	if err := Charge(context.Background()); err != nil {
		t.Fatalf("no meter: %v", err)
	}
	l := New(nil)
	key := func(context.Context) (string, Limit) { return "ip:a", Limit{PerSecond: 1, Burst: 2} }
	m := NewMeter(l, key)
	ctx := WithMeter(context.Background(), m)
	for i := range 2 {
		if err := Charge(ctx); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	err := Charge(ctx)
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.RateLimited || e.RetryAfter <= 0 {
		t.Fatalf("past the burst: %v", err)
	}
	if refused, _ := m.Refused(); refused {
		t.Fatal("Refused after calls were allowed")
	}
	// Another request of the same client: every call refused.
	m2 := NewMeter(l, key)
	if err := Charge(WithMeter(context.Background(), m2)); err == nil {
		t.Fatal("the budget is per key, not per meter")
	}
	if refused, retry := m2.Refused(); !refused || retry <= 0 {
		t.Fatalf("Refused = %v, %v", refused, retry)
	}
	free := NewMeter(l, func(context.Context) (string, Limit) { return "", Limit{} })
	for range 100 {
		if err := Charge(WithMeter(context.Background(), free)); err != nil {
			t.Fatalf("no key: %v", err)
		}
	}
	if Key(WithMeter(context.Background(), m)) != "ip:a" || Key(context.Background()) != "" {
		t.Fatal("Key")
	}
}

type countingTransport struct{ calls int }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.calls++
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
}

// TestTransportChargesEachExchange: each exchange spends one call of the
// request's budget; a refused one never reaches the next transport (it is
// no SeaTable call) and answers RATE_LIMITED.
func TestTransportChargesEachExchange(t *testing.T) {
	next := &countingTransport{}
	rt := Transport(next)
	m := NewMeter(New(nil), func(context.Context) (string, Limit) { return "ip:b", Limit{PerSecond: 1, Burst: 2} })
	ctx := WithMeter(context.Background(), m)
	var refused int
	for range 5 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://seatable.example/api/v2.1/workspaces/", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			if apperr.CodeOf(err) != apperr.RateLimited {
				t.Fatalf("refusal: %v", err)
			}
			refused++
			continue
		}
		resp.Body.Close()
	}
	if next.calls != 2 || refused != 3 {
		t.Fatalf("%d exchanges reached the next transport, %d refused; want 2 and 3", next.calls, refused)
	}
}
