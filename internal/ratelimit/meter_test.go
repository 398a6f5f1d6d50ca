package ratelimit

import (
	"context"
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
