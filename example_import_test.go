package dsm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// DSM's own import: upload the list, read DSM's verdict on each row,
// import when none is refused, and wait for DSM's task.
func ExampleUsersService_PreviewImport() {
	srv, err := dsmtest.NewServer()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	list := "rose\tPetal-secret-26\tAccounting\trose@abc.com\t\"users,sales\"\t\t60000\n" +
		"admin\tAnything-26\n"
	p, err := c.Users.PreviewImport(ctx, "users.txt", []byte(list), dsm.ImportOptions{PasswordMustChange: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range p.Rows {
		fmt.Printf("%s: %s\n", r.Name, r.Status)
	}
	p.Rows = p.Rows[:1] // DSM imports nothing while a row is refused
	task, err := c.Users.Import(ctx, p)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := task.Wait(ctx); err != nil { // polls, then ends the task
		log.Fatal(err)
	}
	u, err := c.Users.Get(ctx, "rose", dsm.FieldGroups)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rose is in", u.Groups)
	// Output:
	// rose: ok
	// admin: user name is reserved
	// rose is in [sales users]
}
