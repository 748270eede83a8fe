package lambdahost

import "syscall"

// setParentDeathSignal makes the kernel kill a runtime if the server dies
// without closing, so a crashed test or serve leaves no orphans behind.
func setParentDeathSignal(a *syscall.SysProcAttr) {
	a.Pdeathsig = syscall.SIGKILL
}
