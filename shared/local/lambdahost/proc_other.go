//go:build !unix

package lambdahost

import "os/exec"

// configureProcess has nothing to set up without process groups.
func configureProcess(*exec.Cmd) {}

// killProcess kills the runtime process.
func killProcess(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
