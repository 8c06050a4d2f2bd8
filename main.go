// Command primeload is an open-model load tester that reads Artillery scripts.
package main

import (
	"os"

	"github.com/primeload/primeload/cmd"
)

func main() { os.Exit(cmd.Main()) }
