package dsm_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// A client with credentials logs in on its first call.
func ExampleNewClient() {
	srv, err := dsmtest.NewServer(dsmtest.WithAdminPassword("Adm1n-secret"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	c, err := dsm.NewClient(srv.URL(), dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: "Adm1n-secret"}))
	if err != nil {
		log.Fatal(err)
	}
	me, err := c.Auth.Whoami(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logged in as", me.Account)
	// Output: logged in as admin
}

// Accounts with 2-step verification need a code once; a device token
// saves the code on later logins.
func ExampleAuthService_Login_twoStep() {
	const seed = "JBSWY3DPEHPK3PXP"
	srv, err := dsmtest.NewServer(dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw1", OTPSecret: seed}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	c, _ := dsm.NewClient(srv.URL())
	cred := dsm.Credentials{Account: "alice", Password: "Alice-pw1", DeviceName: "backup script"}
	_, err = c.Auth.Login(ctx, cred)
	fmt.Println("without a code:", errors.Is(err, dsm.ErrOTPRequired))

	cred.OTPCode = dsmtest.TOTP(seed, srv.Now()) // what the authenticator app shows
	sess, err := c.Auth.Login(ctx, cred)
	if err != nil {
		log.Fatal(err)
	}

	later, _ := dsm.NewClient(srv.URL())
	_, err = later.Auth.Login(ctx, dsm.Credentials{Account: "alice", Password: "Alice-pw1", DeviceID: sess.DeviceID})
	fmt.Println("later, with the device token:", err == nil)
	// Output:
	// without a code: true
	// later, with the device token: true
}

// DSM's error codes match sentinel errors.
func ExampleAPIError() {
	srv, err := dsmtest.NewServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	c, _ := dsm.NewClient(srv.URL())
	_, err = c.Auth.Login(context.Background(), dsm.Credentials{Account: "admin", Password: "wrong"})
	fmt.Println(errors.Is(err, dsm.ErrWrongCredentials))
	fmt.Println(err)
	// Output:
	// true
	// dsm: SYNO.API.Auth login: code 400: no such account or incorrect password
}

// Create a user, put them in a group and wait for DSM's task.
func ExampleUsersService_Create() {
	srv, err := dsmtest.NewServer(dsmtest.WithGroup(dsmtest.Group{Name: "staff"}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client()

	u, err := c.Users.Create(ctx, dsm.UserCreateRequest{Name: "alice", Password: "Wonder-Land-99", Email: "alice@example.com"})
	if err != nil {
		log.Fatal(err)
	}
	task, err := c.Users.JoinGroups(ctx, u.Name, []string{"staff"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := task.Wait(ctx); err != nil { // polls, then reads the groups back
		log.Fatal(err)
	}
	got, err := c.Users.Get(ctx, "alice", dsm.FieldEmail, dsm.FieldGroups)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Name, got.UID, got.Email, got.Groups)
	// Output: alice 1026 alice@example.com [staff users]
}

// Only the fields given change; the others keep their values.
func ExampleUsersService_Update() {
	srv, err := dsmtest.NewServer(dsmtest.WithUser(dsmtest.User{Name: "bob", Password: "Secret-pw-12", Description: "Bob", Email: "bob@example.com"}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client()

	if _, err := c.Users.Update(ctx, "bob", dsm.UserUpdateRequest{Email: dsm.Ptr("robert@example.com")}); err != nil {
		log.Fatal(err)
	}
	u, _ := c.Users.Get(ctx, "bob")
	fmt.Printf("%s %q %s\n", u.Name, u.Description, u.Email)
	// Output: bob "Bob" robert@example.com
}

// CheckPassword tells which rules of the NAS's policy a password breaks,
// without sending it.
func ExampleUsersService_CheckPassword() {
	srv, err := dsmtest.NewServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	problems, err := srv.Client().Users.CheckPassword(context.Background(), "carol", "carol123")
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range problems {
		fmt.Println(p.Rule)
	}
	// Output:
	// mixed_case
	// exclude_username
}

// A user's effective right on a shared folder: the strongest of their
// own row and their groups' rows, a deny over everything.
func ExampleEffectiveAccess() {
	rows := []dsm.Grant{
		{Principal: dsm.GroupPrincipal("staff"), Right: dsm.RightReadWrite},
		{Principal: dsm.UserPrincipal("bob"), Right: dsm.RightDeny},
	}
	for _, user := range []string{"alice", "bob"} {
		a := dsm.EffectiveAccess(user, []string{"users", "staff"}, rows)
		fmt.Printf("%s: %s (%s)\n", user, a.Right, a.Reason())
	}
	// Output:
	// alice: rw (rw from group staff)
	// bob: deny (denied for bob (own row))
}

// Give a group read-only on a shared folder, then read a user's rights
// with their profile in one round trip.
func ExamplePermissionsService_Grant() {
	srv, err := dsmtest.NewServer(
		dsmtest.WithGroup(dsmtest.Group{Name: "staff"}),
		dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-secret-1", Groups: []string{"staff"}}),
		dsmtest.WithShares(dsmtest.Share{Name: "finance"}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	if err := c.Permissions.Grant(ctx, "finance", dsm.GroupPrincipal("staff"), dsm.RightReadOnly); err != nil {
		log.Fatal(err)
	}
	p, err := c.Users.Profile(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range p.Shares {
		fmt.Printf("%s: own %s, from groups %s\n", row.Share, row.Right, row.Inherited)
	}
	// Output:
	// finance: own none, from groups ro
	// homes: own none, from groups none
}

// A program that saves its session can save the API table too: a later
// process resumes both and sends no SYNO.API.Info request.
func ExampleWithAPIInfo() {
	srv, err := dsmtest.NewServer(dsmtest.WithAdminPassword("Adm1n-secret"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	first, _ := dsm.NewClient(srv.URL())
	sess, err := first.Auth.Login(ctx, dsm.Credentials{Account: "admin", Password: "Adm1n-secret"})
	if err != nil {
		log.Fatal(err)
	}
	table, ok := first.APITable() // save it with sess, e.g. as JSON
	fmt.Println("table known:", ok)

	later, err := dsm.NewClient(srv.URL(), dsm.WithSession(sess), dsm.WithAPIInfo(table))
	if err != nil {
		log.Fatal(err)
	}
	me, err := later.Auth.Whoami(ctx) // one request: SYNO.Core.NormalUser get
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("resumed as", me.Account)
	// Output:
	// table known: true
	// resumed as admin
}
