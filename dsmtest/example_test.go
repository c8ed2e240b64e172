package dsmtest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/dsmkit/dsm/dsmtest"
)

// A test starts a simulated DSM, talks to it with the client of Client,
// and moves its clock instead of sleeping.
func Example() {
	srv, err := dsmtest.NewServer(dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw1", Description: "Alice Liddell"}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	client := srv.Client()
	me, err := client.Auth.Whoami(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(me.Account, srv.Logins())

	srv.Advance(time.Hour) // the session expires; the client logs in again
	if _, err := client.Auth.Whoami(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.Logins())
	// Output:
	// admin 1
	// 2
}
