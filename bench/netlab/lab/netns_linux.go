package lab

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNetns runs fn on a fresh OS thread that has joined the network
// namespace at path, and returns fn's error. Sockets and devices that fn
// opens belong to that namespace for their lifetime and may be used from
// any goroutine afterwards. Goroutines that fn starts do NOT run in the
// namespace.
func inNetns(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: open own netns: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: open netns %s: %w", path, err)
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: join netns %s: %w", path, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: it exits with this goroutine
			// instead of running other goroutines in the wrong namespace.
			errc <- fmt.Errorf("lab: leave netns %s: %w", path, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// openTUN creates the layer-3 TUN device name inside the namespace at
// nsPath and returns its file, in non-blocking mode so that Close
// unblocks a pending Read.
func openTUN(nsPath, name string) (*os.File, error) {
	var f *os.File
	err := inNetns(nsPath, func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err != nil {
			return fmt.Errorf("lab: open /dev/net/tun: %w", err)
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			unix.Close(fd)
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("lab: TUNSETIFF %s: %w", name, err)
		}
		f = os.NewFile(uintptr(fd), "tun:"+name)
		return nil
	})
	return f, err
}

// writeSysctl writes value to /proc/sys/<key> as seen from the namespace.
func writeSysctl(nsPath, key, value string) error {
	return inNetns(nsPath, func() error {
		return os.WriteFile("/proc/sys/"+key, []byte(value), 0)
	})
}
