// Command runstat runs one command and prints, as one JSON line on stderr, what it cost: wall time,
// user and system CPU time and peak RSS (from wait4's rusage, so the whole process, Go runtime or
// Node start-up included). The command's stdout goes to /dev/null unless -stdout FILE is given.
//
//	runstat [-stdout FILE] -- CMD ARGS...
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	stdout := flag.String("stdout", os.DevNull, "where the command's stdout goes")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: runstat [-stdout FILE] -- CMD ARGS...")
		os.Exit(2)
	}
	out, err := os.Create(*stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "runstat:", err)
		os.Exit(2)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = out
	cmd.Stderr = os.Stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	out.Close()
	exit := 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			exit = ee.ExitCode()
		} else {
			fmt.Fprintln(os.Stderr, "runstat:", err)
			os.Exit(2)
		}
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	ms := func(t syscall.Timeval) float64 { return float64(t.Sec)*1e3 + float64(t.Usec)/1e3 }
	b, _ := json.Marshal(map[string]any{
		"wallMs":   float64(wall.Microseconds()) / 1e3,
		"userMs":   ms(ru.Utime),
		"sysMs":    ms(ru.Stime),
		"cpuMs":    ms(ru.Utime) + ms(ru.Stime),
		"maxRssKB": ru.Maxrss,
		"exit":     exit,
	})
	fmt.Fprintln(os.Stderr, "runstat: "+string(b))
}
