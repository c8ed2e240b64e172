package manifest_test

import (
	"context"
	"fmt"

	"github.com/dsmkit/dsm/dsmtest"
	"github.com/dsmkit/dsm/manifest"
)

// Plan a file against a NAS, apply it, and plan again.
func Example() {
	srv, err := dsmtest.NewServer(dsmtest.WithGroup(dsmtest.Group{Name: "staff", Description: "Staff"}))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	f, err := manifest.Parse("users.yaml", []byte(`
groups:
  - name: pupils
users:
  - name: alice
    description: Alice Liddell
    groups: [staff, pupils]
    password: {generate: true}
`))
	if err != nil {
		panic(err)
	}
	plan, err := f.Plan(ctx, client, manifest.PlanOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Print(plan)

	res, err := plan.Apply(ctx, client, manifest.ApplyOptions{
		RecordPassword: func(user, password string) error {
			// Keep it somewhere safe; here, nowhere.
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d of %d done\n", res.Succeeded, res.Total)

	again, _ := f.Plan(ctx, client, manifest.PlanOptions{})
	fmt.Print(again)

	// Output:
	// + group pupils
	// + user alice
	//     description: "Alice Liddell"
	//     expiry: never
	//     groups: +staff +pupils
	//     password: generated
	// Plan: 2 to create, 0 to change, 0 to delete.
	// 2 of 2 done
	// No changes: the NAS matches users.yaml.
}
