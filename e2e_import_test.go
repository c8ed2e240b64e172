package dsm_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// DSM's own import end to end, in a session with the secure sign-in (the
// simulator checks the X-SYNO-HASH of the upload as of any call): the
// preview's statuses, the task that finishes once its time has passed,
// and the users, groups and quotas it leaves.
func TestE2ENativeImport(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithRemoteClients(), dsmtest.WithJoinDelay(time.Minute),
		dsmtest.WithUser(dsmtest.User{Name: "old", Password: "Olds-pw-2026"}))
	ctx := t.Context()
	c := newClient(t, srv, dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: srv.AdminPassword()}),
		dsm.WithSecureSignIn(dsm.SecureSignInRequired))

	list := []byte("rose, Petal-pw-2026, Accounting, rose@abc.com, \"users,sales\", , 60000\n" +
		"old, Brand-new-2026, , , , ,\n" +
		"bad:name, Pw-2026-abcd\n")
	p, err := c.Users.PreviewImport(ctx, "users.csv", list, dsm.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []dsm.ImportRowStatus
	for _, r := range p.Rows {
		got = append(got, r.Status)
	}
	if d := cmp.Diff([]dsm.ImportRowStatus{dsm.ImportRowOK, dsm.ImportRowExists, dsm.ImportRowInvalidName}, got); d != "" {
		t.Fatalf("statuses (-want +got):\n%s", d)
	}
	if _, err := c.Users.Import(ctx, p); err == nil {
		t.Fatal("import of a preview with refused rows: no error")
	}

	// Overwrite, without the bad row.
	p, err = c.Users.PreviewImport(ctx, "users.csv", list[:len(list)-len("bad:name, Pw-2026-abcd\n")], dsm.ImportOptions{Overwrite: true, PasswordMustChange: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rows) != 2 || p.Rows[0].Status != dsm.ImportRowOK || p.Rows[1].Status != dsm.ImportRowOverwrite {
		t.Fatalf("rows with overwrite: %v", p.Rows)
	}
	if p.Rows[0].Quota != "volume2:60000" || !slices.Equal(p.Rows[0].Groups, []string{"users", "sales"}) {
		t.Errorf("rose's quota %q and groups %q", p.Rows[0].Quota, p.Rows[0].Groups)
	}
	task, err := c.Users.Import(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := task.Status(ctx)
	if err != nil || st.Finished {
		t.Fatalf("status right after import: %+v %v, want not finished", st, err)
	}
	if _, err := c.Users.Get(ctx, "rose"); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("rose before the task finished: %v", err)
	}
	srv.Advance(2 * time.Minute)
	var seen []dsm.ImportStatus
	if _, err := task.WaitProgress(ctx, func(st dsm.ImportStatus) { seen = append(seen, st) }); err != nil {
		t.Fatal(err)
	}
	if want := []dsm.ImportStatus{{Finished: true, Progress: 2, Total: 2}}; !cmp.Equal(want, seen) {
		t.Errorf("progress %+v, want %+v", seen, want)
	}
	rose, err := c.Users.Get(ctx, "rose", dsm.FieldGroups, dsm.FieldEmail)
	if err != nil {
		t.Fatal(err)
	}
	if rose.Email != "rose@abc.com" || !slices.Equal(rose.Groups, []string{"sales", "users"}) {
		t.Errorf("rose: email %q, groups %q", rose.Email, rose.Groups)
	}
	if _, err := c.Groups.Get(ctx, "sales"); err != nil {
		t.Errorf("the group the import named: %v", err)
	}
	q, err := c.Quotas.Get(ctx, dsm.UserPrincipal("rose"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(q, dsm.Quota{Volume: "/volume2", Limit: 60000 * dsm.MiB}) {
		t.Errorf("rose's quotas %+v, want 60000 MB on volume2", q)
	}
	// The task is gone once Wait stopped it.
	if _, err := task.Status(ctx); err == nil {
		t.Error("status of a stopped import: no error")
	}
	// The overwritten user's password is the imported one, to be changed
	// at the first login (PasswordMustChange).
	oldc := newClient(t, srv, dsm.WithSecureSignIn(dsm.SecureSignInRequired))
	if _, err := oldc.Auth.Login(ctx, dsm.Credentials{Account: "old", Password: "Brand-new-2026"}); err != nil {
		t.Errorf("old's login with the imported password: %v", err)
	}
	if u, err := c.Users.Get(ctx, "old", dsm.FieldPasswordPending); err != nil || !u.PasswordPending {
		t.Errorf("old after the import: %+v %v, want a password to change", u, err)
	}
}

// A quota beyond its volume's size fails the task with 3117, which
// Wait returns typed; the rows before it stay.
func TestE2ENativeImportQuotaTooLarge(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithJoinDelay(time.Minute))
	ctx := t.Context()
	c := srv.Client()
	p, err := c.Users.PreviewImport(ctx, "u.txt", []byte("amy\tApple-pw-2026\nbig\tLarge-pw-2026\t\t\t\t\t999999999\n"), dsm.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	task, err := c.Users.Import(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(2 * time.Minute)
	if _, err := task.Wait(ctx); !errors.Is(err, dsm.ErrQuotaTooLarge) {
		t.Fatalf("wait: %v, want ErrQuotaTooLarge", err)
	}
	if _, err := c.Users.Get(ctx, "amy"); err != nil {
		t.Errorf("the row before the failure: %v", err)
	}
	if _, err := c.Users.Get(ctx, "big"); !errors.Is(err, dsm.ErrNoSuchUser) {
		t.Errorf("the failed row: %v", err)
	}
	if err := task.Stop(ctx); err != nil {
		t.Errorf("stop of a failed import: %v", err)
	}
}

// The client's bounds on an import are the simulator's: a list of
// MaxImportFileSize bytes is read, and one of MaxImportRows rows with
// long fields is read and imported over plain http (the rows in the
// encryption envelope, within the simulator's bound on a request); a row
// more is refused (3191).
func TestE2ENativeImportBounds(t *testing.T) {
	t.Parallel()
	srv := dsmtest.Start(t, dsmtest.WithJoinDelay(time.Minute))
	ctx := t.Context()
	c := srv.Client()
	big := append([]byte("a\t\t"), bytes.Repeat([]byte("d"), dsm.MaxImportFileSize-3)...)
	if p, err := c.Users.PreviewImport(ctx, "big.txt", big, dsm.ImportOptions{}); err != nil || len(p.Rows) != 1 {
		t.Errorf("a list of MaxImportFileSize bytes: %v", err)
	}
	var rows bytes.Buffer
	for i := range dsm.MaxImportRows {
		fmt.Fprintf(&rows, "user%04d\tA-longer-password-%04d\tThe description of user number %d\tuser%04d@example.com\t\"users,staff\"\t\t1000\n", i, i, i, i)
	}
	p, err := c.Users.PreviewImport(ctx, "rows.txt", rows.Bytes(), dsm.ImportOptions{})
	if err != nil || len(p.Rows) != dsm.MaxImportRows || len(p.Refused()) != 0 {
		t.Fatalf("a list of MaxImportRows rows: %v", err)
	}
	task, err := c.Users.Import(ctx, p)
	if err != nil {
		t.Fatalf("import of MaxImportRows rows: %v", err)
	}
	srv.Advance(2 * time.Minute)
	if _, err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Users.Get(ctx, fmt.Sprintf("user%04d", dsm.MaxImportRows-1)); err != nil {
		t.Errorf("the last row's user: %v", err)
	}
	if _, err := c.Users.PreviewImport(ctx, "rows.txt", append(rows.Bytes(), "b\n"...), dsm.ImportOptions{}); !errors.Is(err, dsm.ErrImportUnreadable) {
		t.Errorf("a row more: %v, want ErrImportUnreadable", err)
	}
}
