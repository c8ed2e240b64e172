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
