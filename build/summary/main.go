// Command summary reads `go test -v` logs and prints one line per top-level
// test, then "N passed, N failed[, N skipped]". It exits non-zero when a test
// or a package failed, or when no test ran at all.
//
//	go run ./build/summary unit.log e2e.log
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
)

var (
	resultLine  = regexp.MustCompile(`^--- (PASS|FAIL|SKIP): (\S+) \(([^)]*)\)`)
	packageFail = regexp.MustCompile(`^(FAIL|panic:|--- FAIL)|^FAIL\s`)
)

func main() {
	passed, failed, skipped, pkgFailed := 0, 0, 0, false
	for _, path := range os.Args[1:] {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "summary:", err)
			os.Exit(2)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if m := resultLine.FindStringSubmatch(line); m != nil {
				fmt.Printf("%-4s %s (%s)\n", m[1], m[2], m[3])
				switch m[1] {
				case "PASS":
					passed++
				case "FAIL":
					failed++
				case "SKIP":
					skipped++
				}
				continue
			}
			if packageFail.MatchString(line) && !strings.HasPrefix(line, "--- ") {
				pkgFailed = true
			}
		}
		f.Close()
	}
	fmt.Println()
	if skipped > 0 {
		fmt.Printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	} else {
		fmt.Printf("%d passed, %d failed\n", passed, failed)
	}
	if failed > 0 || pkgFailed || passed == 0 {
		os.Exit(1)
	}
}
