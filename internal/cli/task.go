package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dsmkit/dsm"
)

func newTaskCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "task",
		Short: "Follow a task DSM runs in the background",
		Long: `Follow a task DSM runs in the background: a change of a user's groups
("dsmctl user join" and "user leave" start one; with --no-wait, or when
interrupted, they print its id).`,
		Example: `  dsmctl task wait @administrators/groupbatch1737238746C6723E33 bob`,
	}
	parentCmd(cmd)
	cmd.AddCommand(newTaskWaitCmd(s, getenv, g))
	return cmd
}

// taskWaitOptions are the options of dsmctl task wait.
type taskWaitOptions struct {
	conn   connOptions
	Output string
	ID     string
	User   string
}

func newTaskWaitCmd(s *IOStreams, getenv func(string) string, g *globalOptions) *cobra.Command {
	o := &taskWaitOptions{}
	cmd := &cobra.Command{
		Use:   "wait TASK_ID USER",
		Short: "Wait for a group change task of a user to finish",
		Long: `Wait for the group change task TASK_ID of user USER to finish
(SYNO.Core.User.Group join_status), showing its progress on a terminal,
then show the user's groups (SYNO.Core.User get). DSM reports a task that
failed: then the exit code is 1.`,
		Example: `  dsmctl user join bob staff --no-wait
  dsmctl task wait @administrators/groupbatch1737238746C6723E33 bob`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ID, o.User = args[0], args[1]
			if err := errors.Join(checkOutput(o.Output), checkUserNames(o.User)); err != nil {
				return err
			}
			if err := o.conn.complete(getenv, g); err != nil {
				return err
			}
			return runTaskWait(cmd.Context(), o, s)
		},
	}
	addConnFlags(cmd, &o.conn)
	addOutputFlag(cmd, &o.Output)
	return cmd
}

func runTaskWait(ctx context.Context, o *taskWaitOptions, s *IOStreams) error {
	return withClient(ctx, &o.conn, s, func(c *dsm.Client) error {
		task, err := c.Users.GroupTask(o.ID, o.User, nil, nil)
		if err != nil {
			return err
		}
		if err := waitTask(ctx, task, s); err != nil {
			return fmt.Errorf("task %s: %w", o.ID, err)
		}
		u, err := c.Users.Get(ctx, o.User, dsm.FieldGroups)
		if err != nil {
			return fmt.Errorf("task %s finished, but reading the groups of %s failed: %w", o.ID, o.User, err)
		}
		if o.Output != formatText {
			return printRecord(s.Out, o.Output, record{{"task_id", o.ID}, {"name", u.Name}, {"finished", true}, {"groups", u.Groups}})
		}
		fmt.Fprintf(s.Out, "task %s finished: %s is in %s\n", o.ID, u.Name, textCell(u.Groups))
		return nil
	})
}

// taskHint tells how to follow a task dsmctl leaves running.
func taskHint(s *IOStreams, task *dsm.GroupTask) {
	fmt.Fprintf(s.ErrOut, "DSM goes on with the task; follow it with: dsmctl task wait %s %s\n", task.ID, task.User)
}
