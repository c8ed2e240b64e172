package manifest

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// TestApplyCreateDone: CreateDone hears the outcome of each create whose
// generated password went to RecordPassword, after it was recorded: nil
// for a user DSM created, DSM's error for one it refused; a user with a
// given password is not reported.
func TestApplyCreateDone(t *testing.T) {
	t.Parallel()
	srv := startNAS(t, dsmtest.WithFault(dsmtest.Fault{API: "SYNO.Core.User", Method: "create", Kind: dsmtest.FaultCode, Code: 3100, Times: 1}))
	c, err := dsm.NewClient(srv.URL(), dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}))
	if err != nil {
		t.Fatal(err)
	}
	f := mustParse(t, "users:\n  - name: first\n    password: {generate: true}\n  - name: second\n    password: {generate: true}\n  - name: given\n    password: {from_env: GIVEN_PW}\n")
	plan, err := f.Plan(t.Context(), c, PlanOptions{Getenv: func(string) string { return "Other-Pw-4242" }})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []string
	recorded := map[string]bool{}
	_, err = plan.Apply(t.Context(), c, ApplyOptions{
		Parallel: 1,
		RecordPassword: func(user, _ string) error {
			mu.Lock()
			defer mu.Unlock()
			recorded[user] = true
			events = append(events, "record "+user)
			return nil
		},
		CreateDone: func(user string, err error) {
			mu.Lock()
			defer mu.Unlock()
			var apiErr *dsm.APIError
			switch {
			case !recorded[user]:
				events = append(events, "done before record "+user)
			case err == nil:
				events = append(events, "created "+user)
			case errors.As(err, &apiErr) && apiErr.Code == 3100:
				events = append(events, "refused "+user)
			default:
				events = append(events, "other "+user+": "+err.Error())
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"record first", "refused first", "record second", "created second"}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
