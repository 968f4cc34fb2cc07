// Command manifest prints a field of plugin.json for the Makefile:
// `go run ./build/manifest id|version|executable <os-arch>`.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

type manifest struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Server  struct {
		Executables map[string]string `json:"executables"`
	} `json:"server"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "manifest:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	raw, err := os.ReadFile("plugin.json")
	if err != nil {
		return err
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("plugin.json: %w", err)
	}
	if len(args) == 0 {
		return fmt.Errorf("usage: manifest id|version|executable <os-arch>")
	}
	switch args[0] {
	case "id":
		fmt.Println(m.ID)
	case "version":
		fmt.Println(m.Version)
	case "executable":
		if len(args) != 2 {
			return fmt.Errorf("usage: manifest executable <os-arch>")
		}
		exe, ok := m.Server.Executables[args[1]]
		if !ok {
			return fmt.Errorf("plugin.json lists no executable for %s", args[1])
		}
		fmt.Println(exe)
	default:
		return fmt.Errorf("unknown field %q", args[0])
	}
	return nil
}
