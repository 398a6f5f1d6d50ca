package upstream

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/seatable-graphql/seatable-graphql/internal/apperr"
)

// writeServer answers every request with status and body, mounted under a
// base path so that a wrong absolute URL fails, and records what it got.
func writeServer(t *testing.T, status int, body string) (*Client, *http.Request, *string) {
	t.Helper()
	var got http.Request
	var gotBody string
	mux := http.NewServeMux()
	mux.HandleFunc("/seatable/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, gotBody = *r, string(b)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL + "/seatable")
	if err != nil {
		t.Fatal(err)
	}
	return c, &got, &gotBody
}

func TestWriteAnswersAreReadLeniently(t *testing.T) {
	const uuid = "11111111-2222-4333-8444-555555555555"
	cases := []struct {
		name, body string
		wantName   string // "" = no base
	}{
		{"current", `{"table":{"id":7,"workspace_id":3,"uuid":"` + uuid + `","name":"Plan","color":null,"created_at":"2026-03-06T10:25:09+01:00"}}`, "Plan"},
		{"32-hex uuid, string ids", `{"table":{"id":"7","workspace_id":"3","uuid":"11111111222243338444555555555555","name":"Plan"}}`, "Plan"},
		{"no table key", `{"success":true}`, ""},
		{"table not an object", `{"table":"Plan"}`, ""},
		{"no uuid", `{"table":{"name":"Plan"}}`, ""},
		{"not JSON", `<html>ok</html>`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client, _, _ := writeServer(t, http.StatusCreated, c.body)
			d, err := client.CreateDTable(context.Background(), "tok", CreateDTable{Name: "Plan", WorkspaceID: "3"})
			if err != nil {
				t.Fatalf("a 201 must not fail: %v", err)
			}
			if c.wantName == "" {
				if d != nil {
					t.Errorf("got %+v, want nil", d)
				}
				return
			}
			if d == nil || d.Name != c.wantName || d.UUID != uuid || d.WorkspaceID != "3" {
				t.Errorf("got %+v", d)
			}
		})
	}
}

func TestWriteRequests(t *testing.T) {
	ctx := context.Background()
	client, got, body := writeServer(t, http.StatusOK, `{"table":{"uuid":"11111111-2222-4333-8444-555555555555","name":"New"}}`)
	newName := "New & ü/?"
	if _, err := client.UpdateDTable(ctx, "tok", "42", "Old name", UpdateDTable{NewName: &newName}); err != nil {
		t.Fatal(err)
	}
	form, _ := url.ParseQuery(*body)
	if got.Method != http.MethodPut || got.URL.Path != "/seatable/api/v2.1/workspace/42/dtable/" ||
		got.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || got.Header.Get("Authorization") != "Token tok" {
		t.Errorf("request %s %s %v", got.Method, got.URL.Path, got.Header)
	}
	if form.Get("name") != "Old name" || form.Get("new_name") != newName || len(form) != 2 {
		t.Errorf("form %v", form)
	}

	if err := client.UnstarDTable(ctx, "tok", "11111111-2222-4333-8444-555555555555"); err != nil {
		t.Fatal(err)
	}
	if got.Method != http.MethodDelete || got.URL.RawQuery != "dtable_uuid=11111111-2222-4333-8444-555555555555" || *body != "" {
		t.Errorf("unstar sent %s ?%s body %q", got.Method, got.URL.RawQuery, *body)
	}

	// A workspace id that is not a number would address another route.
	for _, wid := range []string{"", "starred", "1/../2", "-1"} {
		if err := client.DeleteDTable(ctx, "tok", wid, "x"); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("workspace %q: %v, want BAD_USER_INPUT", wid, err)
		}
	}
}

func TestWriteErrorsKeepUpstreamValidationMessage(t *testing.T) {
	client, _, _ := writeServer(t, http.StatusBadRequest, `{"error_msg":"Base Plan already exists in this workspace."}`)
	_, err := client.CreateDTable(context.Background(), "tok", CreateDTable{Name: "Plan"})
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.BadUserInput || e.Message != "Base Plan already exists in this workspace." || e.UpstreamStatus != 400 {
		t.Errorf("got %v", err)
	}
}
