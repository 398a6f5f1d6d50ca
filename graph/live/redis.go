package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
	"github.com/seatable-graphql/seatable-graphql/internal/tokenhash"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// Redis coordinates the pollers of several replicas (REDIS_URL): for each
// token, the replicas with subscribers elect one poller with a lock that
// expires, and the elected one publishes each answer on a channel the
// others relay to their subscribers. So N replicas with subscribers of one
// user still poll SeaTable once per interval; when the polling replica
// dies its lock expires and the next replica to tick takes over.
//
// Keys (the token hash uses the HMAC key shared by every replica,
// sgql:hmac-key, see tokenhash.LoadSharedKey):
//
//	sgql:live:lock:<hash>   the elected replica's id, with an expiry
//	sgql:live:<hash>        pub/sub channel of answers
//
// Redis failing never stops updates: a replica that cannot reach it polls
// for its own subscribers, as without Redis.
type Redis struct {
	c   *redis.Client
	id  string // this replica, in lock values
	key []byte // shared HMAC key
}

const (
	lockPrefix = "sgql:live:lock:"
	chanPrefix = "sgql:live:"
)

// NewRedis returns a coordinator over c. It reads (or creates) the HMAC key
// every replica shares, so that their poller names agree.
func NewRedis(ctx context.Context, c *redis.Client) (*Redis, error) {
	k, err := tokenhash.LoadSharedKey(ctx, c)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	return &Redis{c: c, id: hex.EncodeToString(id), key: k}, nil
}

// renew extends the lock only while this replica holds it.
var renew = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) end return 0`)

// release deletes the lock only while this replica holds it.
var release = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0`)

// acquire takes or renews the lock of poller name for ttl; it reports
// whether this replica should poll. When Redis fails it says yes: better
// an extra poll than no updates.
func (r *Redis) acquire(ctx context.Context, name string, ttl time.Duration) bool {
	ok, err := r.c.SetNX(ctx, lockPrefix+name, r.id, ttl).Result()
	if err != nil {
		return true
	}
	if ok {
		return true
	}
	n, err := renew.Run(ctx, r.c, []string{lockPrefix + name}, r.id, ttl.Milliseconds()).Int()
	return err != nil || n == 1
}

func (r *Redis) release(ctx context.Context, name string) {
	_ = release.Run(ctx, r.c, []string{lockPrefix + name}, r.id).Err()
}

// message is an answer on the wire.
type message struct {
	Workspaces []*upstream.Workspace `json:"w,omitempty"`
	Code       apperr.Code           `json:"c,omitempty"`
	Message    string                `json:"m,omitempty"`
	RetryAfter time.Duration         `json:"r,omitempty"`
	At         int64                 `json:"t"` // poll start, Unix nanoseconds
}

func (r *Redis) publish(ctx context.Context, name string, u Update) {
	m := message{At: u.At.UnixNano()}
	if u.Err != nil {
		m.Code, m.Message = apperr.CodeOf(u.Err), "SeaTable could not be read"
		if e, ok := apperr.As(u.Err); ok {
			m.Message, m.RetryAfter = e.Message, e.RetryAfter
		}
	} else {
		m.Workspaces = u.List.Workspaces
	}
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	_ = r.c.Publish(ctx, chanPrefix+name, b).Err()
}

// subscribe relays the answers published for name until ctx ends. The
// subscription is confirmed before it returns, so nothing published after
// is missed.
func (r *Redis) subscribe(ctx context.Context, name string) <-chan Update {
	out := make(chan Update, 1)
	ps := r.c.Subscribe(ctx, chanPrefix+name)
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		close(out)
		return out
	}
	go func() {
		defer close(out)
		defer ps.Close()
		ch := ps.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case msg, ok := <-ch:
				if !ok {
					return
				}
				var m message
				if json.Unmarshal([]byte(msg.Payload), &m) != nil {
					continue
				}
				u := Update{List: &upstream.WorkspaceList{Workspaces: m.Workspaces, Detail: true, Fields: upstream.AllFields}}
				if m.Code != "" {
					u = Update{Err: &apperr.Error{Code: m.Code, Message: m.Message, RetryAfter: m.RetryAfter}}
				}
				u.At = time.Unix(0, m.At)
				select {
				case out <- u:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}
