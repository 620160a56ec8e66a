// Package common is the driver shared by the per-release gogo-diff programs (../v35, ../v36, ../v37):
// it reads test vectors from stdin and prints what etcd's own Unmarshal (gogoproto's generated
// methods up to 3.6, protobuf-go's proto.Unmarshal from 3.7) makes of each, so that wal-doctor's
// TypeScript decoder can be compared with the real thing
// (test/format/proto/gogo-diff.test.ts).
//
// Input, one vector a line: `<type> <hex>`, where <type> is a message's full proto name as
// wal-doctor's .proto files spell it (`walpb.Record`, `etcdserverpb.InternalRaftRequest`, ...) or
// `apply:EntryNormal` (what etcd's applyEntryNormal does with an entry's Data, see ApplyEntryNormal).
// Output, one line per vector in the same order: `ok`, or `err ` + the error's text as a JSON
// string (texts are printed exactly, never wrapped), or `panic ` + the recovered panic text as a
// JSON string. A line that is not understood is `bad ` + why.
package common

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
)

// Unmarshaler is what every gogoproto-generated message implements.
type Unmarshaler interface {
	Unmarshal([]byte) error
}

// Registry maps a type name to a constructor of an empty message.
type Registry map[string]func() Unmarshaler

// MustUnmarshal is etcd's pkg/pbutil.MustUnmarshal, copied so that the panic text is exactly etcd's.
func MustUnmarshal(um Unmarshaler, data []byte) {
	if err := um.Unmarshal(data); err != nil {
		panic(fmt.Sprintf("unmarshal should never fail (%v)", err))
	}
}

// MaybeUnmarshal is etcd's pkg/pbutil.MaybeUnmarshal.
func MaybeUnmarshal(um Unmarshaler, data []byte) bool {
	return um.Unmarshal(data) == nil
}

// ApplyEntryNormal is the decoding half of etcd's EtcdServer.applyEntryNormal: empty Data is the
// leader's no-op (skipped), else an InternalRaftRequest if it decodes, otherwise a v2 Request that
// must decode (pbutil.MustUnmarshal panics). It returns "noop", "irr" or "v2"; a panic propagates.
func ApplyEntryNormal(irr, req Unmarshaler, data []byte) string {
	if len(data) == 0 {
		return "noop"
	}
	if MaybeUnmarshal(irr, data) {
		return "irr"
	}
	MustUnmarshal(req, data)
	return "v2"
}

func quote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func run(reg Registry, apply func([]byte) string, typ string, data []byte) (line string) {
	defer func() {
		if r := recover(); r != nil {
			line = "panic " + quote(fmt.Sprint(r))
		}
	}()
	if typ == "apply:EntryNormal" {
		return "ok " + apply(data)
	}
	mk, ok := reg[typ]
	if !ok {
		return "bad " + quote("unknown type "+typ)
	}
	if err := mk().Unmarshal(data); err != nil {
		return "err " + quote(err.Error())
	}
	return "ok"
}

// Main runs the filter over stdin/stdout. With the argument `types` it lists the registry instead.
func Main(version string, reg Registry, apply func([]byte) string) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "types":
			names := make([]string, 0, len(reg))
			for n := range reg {
				names = append(names, n)
			}
			sort.Strings(names)
			fmt.Println(strings.Join(names, "\n"))
			return
		case "version":
			fmt.Println(version)
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					if strings.HasPrefix(d.Path, "go.etcd.io/") || d.Path == "github.com/gogo/protobuf" || d.Path == "google.golang.org/protobuf" {
						fmt.Println(d.Path, d.Version)
					}
				}
			}
			return
		}
		fmt.Fprintln(os.Stderr, "usage: gogo-diff [types|version] < vectors")
		os.Exit(2)
	}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	for {
		line, err := in.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line != "" {
			typ, hx, _ := strings.Cut(line, " ")
			data, herr := hex.DecodeString(hx)
			if herr != nil {
				fmt.Fprintln(out, "bad "+quote(herr.Error()))
			} else {
				fmt.Fprintln(out, run(reg, apply, typ, data))
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
