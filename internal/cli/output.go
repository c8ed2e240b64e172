package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/dsmkit/dsm"
)

// Output formats of -o: text for people (a table, or "key: value" lines
// for one object), json, yaml and csv for scripts.
const (
	formatText = "text"
	formatJSON = "json"
	formatYAML = "yaml"
	formatCSV  = "csv"
)

// outputFormats are the values of -o of the commands that print records.
var outputFormats = []string{formatText, formatJSON, formatYAML, formatCSV}

// addOutputFlag declares -o with the formats of outputFormats.
func addOutputFlag(cmd *cobra.Command, format *string) {
	cmd.Flags().StringVarP(format, "output", "o", formatText, "output format: "+strings.Join(outputFormats, ", "))
}

// checkOutput refuses a format -o does not know (a usage error).
func checkOutput(format string) error {
	if !slices.Contains(outputFormats, format) {
		return usagef("-o %s: unknown output format; use %s", format, strings.Join(outputFormats, ", "))
	}
	return nil
}

// field is one named value of a record.
type field struct {
	Key   string
	Value any
}

// record is an object to print: its fields keep their order in every
// format. Values are strings, bools, ints, string slices, dsm.Date,
// dsm.Expiry, or nil (none).
type record []field

// MarshalJSON writes r as a JSON object with the fields in order.
func (r record) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range r {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(jsonValue(f.Value))
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// jsonValue makes a nil slice an empty list, so that scripts see [] rather
// than null.
func jsonValue(v any) any {
	if s, ok := v.([]string); ok && s == nil {
		return []string{}
	}
	return v
}

// keys returns the field names of r.
func (r record) keys() []string {
	out := make([]string, len(r))
	for i, f := range r {
		out[i] = f.Key
	}
	return out
}

// printList writes records in format: a table with a header for text, a
// JSON or YAML list, or CSV with a header row. An empty list prints the
// header alone (text, csv) or an empty list (json, yaml). cols names the
// columns when records is empty.
func printList(w io.Writer, format string, cols []string, records []record) error {
	if len(records) > 0 {
		cols = records[0].keys()
	}
	switch format {
	case formatJSON:
		if records == nil {
			records = []record{}
		}
		return writeJSON(w, records)
	case formatYAML:
		if records == nil {
			records = []record{}
		}
		return writeYAML(w, records)
	case formatCSV:
		cw := csv.NewWriter(w)
		cw.Write(cols)
		for _, r := range records {
			row := make([]string, len(r))
			for i, f := range r {
				row[i] = csvCell(f.Value)
			}
			cw.Write(row)
		}
		cw.Flush()
		return cw.Error()
	}
	rows := make([][]string, 0, len(records)+1)
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = strings.ToUpper(strings.ReplaceAll(c, "_", " "))
	}
	rows = append(rows, head)
	for _, r := range records {
		row := make([]string, len(r))
		for i, f := range r {
			row[i] = textCell(f.Value)
		}
		rows = append(rows, row)
	}
	return writeTable(w, rows, outputWidth(w))
}

// printRecord writes one object in format: "key: value" lines for text,
// a JSON or YAML object, or CSV with a header row and one row.
func printRecord(w io.Writer, format string, r record) error {
	switch format {
	case formatJSON:
		return writeJSON(w, r)
	case formatYAML:
		return writeYAML(w, r)
	case formatCSV:
		return printList(w, format, nil, []record{r})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range r {
		fmt.Fprintf(tw, "%s:\t%s\n", strings.ReplaceAll(f.Key, "_", " "), textCell(f.Value))
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeYAML writes v as YAML with the keys and values its JSON form has:
// it goes through JSON, which is YAML, so both formats agree.
func writeYAML(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return err
	}
	blockStyle(&n)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return err
	}
	return enc.Close()
}

// blockStyle drops the flow style and quotes the JSON source gave n, so
// the encoder writes block YAML and quotes only where YAML needs it.
func blockStyle(n *yaml.Node) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!str" {
		n.Style = 0
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// textCell renders a value for a person: "-" for none, yes/no, lists
// joined with commas, dates as YYYY-MM-DD.
func textCell(v any) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case string:
		return orDash(v)
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case []string:
		return orDash(strings.Join(v, ","))
	case dsm.Date:
		return orDash(v.String())
	}
	return fmt.Sprint(v)
}

// csvCell renders a value for a CSV reader: empty for none, true/false,
// lists joined with commas (one quoted cell), dates as YYYY-MM-DD.
func csvCell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case []string:
		return strings.Join(v, ",")
	}
	return fmt.Sprint(v)
}
