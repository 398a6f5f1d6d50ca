package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/seatable-graphql/seatable-graphql/app"
	"github.com/seatable-graphql/seatable-graphql/upstream/fakeseatable"
)

// New builds the whole server as one http.Handler, to mount in a program
// of one's own; Run does the same and also listens, serves and drains.
func ExampleNew() {
	seatable := fakeseatable.New() // stands in for https://cloud.seatable.io
	seatable.AcceptAnyToken(fakeseatable.Fixture(fakeseatable.Demo))
	up := httptest.NewServer(seatable)
	defer up.Close()

	env := map[string]string{"SEATABLE_URL": up.URL} // os.Getenv in a real program
	cfg, err := app.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		panic(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{})
	if err != nil {
		panic(err)
	}
	defer a.Close(context.Background())

	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ workspace(id: \"2\") { name } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Token my-seatable-account-token")
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 200 {"data":{"workspace":{"name":"group one"}}}
}
