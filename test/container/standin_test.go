package container

import (
	"archive/tar"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The stand-ins of the Dockerfile's base images, built from what this
// machine has, since no image registry is reachable:
//
//   - build (for golang:1.26-bookworm): Debian's static busybox as /bin/sh
//     and the usual commands, the Go toolchain of /usr/local/go, the CA
//     certificates, GOPATH=/go, GOTOOLCHAIN=local and the PATH of the
//     official image;
//   - runtime (for gcr.io/distroless/static-debian12:nonroot): the CA
//     certificates, /etc/passwd and /etc/group with root, nobody and
//     nonroot (65532), /tmp, /home/nonroot, USER 65532 and no shell.
//
// Each is a single layer made by `docker import` from a tar stream this
// test writes, labelled with the run's label so that everything built on
// them can be found and removed.

// Where the build stand-in takes its parts from.
const (
	hostGo      = "/usr/local/go"
	hostBusybox = "/bin/busybox"
	hostCAs     = "/etc/ssl/certs/ca-certificates.crt"
)

// layer writes a root file system as a tar stream.
type layer struct {
	tw  *tar.Writer
	now time.Time
}

func (l *layer) dir(name string, mode int64, uid int) error {
	return l.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid, ModTime: l.now})
}

func (l *layer) file(name string, mode int64, body []byte) error {
	if err := l.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body)), ModTime: l.now}); err != nil {
		return err
	}
	_, err := l.tw.Write(body)
	return err
}

func (l *layer) symlink(name, target string) error {
	return l.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: l.now})
}

// copyFile adds the host's file src as name.
func (l *layer) copyFile(name, src string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := l.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(st.Mode().Perm()), Size: st.Size(), ModTime: st.ModTime()}); err != nil {
		return err
	}
	_, err = io.Copy(l.tw, f)
	return err
}

// copyTree adds the host's directory src as name, files, directories and
// symbolic links alike, owned by root.
func (l *layer) copyTree(name, src string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.ToSlash(filepath.Join(name, rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return l.dir(dst, int64(info.Mode().Perm()), 0)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return l.symlink(dst, target)
		case info.Mode().IsRegular():
			return l.copyFile(dst, p)
		}
		return nil // sockets, devices: none in a Go toolchain
	})
}

// importImage streams the layer that fill writes into `docker import`,
// with the Dockerfile instructions in changes, as tag.
func importImage(t testing.TB, tag string, changes []string, fill func(l *layer) error) {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		l := &layer{tw: tw, now: time.Now()}
		err := fill(l)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	args := []string{"import"}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	args = append(args, "-", tag)
	if _, err := dockerErr(pr, args...); err != nil {
		pr.CloseWithError(err)
		t.Fatalf("docker import %s: %v", tag, err)
	}
}

// buildStandin makes the stand-in of golang:1.26-bookworm.
func buildStandin(t testing.TB, tag, label string) {
	t.Helper()
	for _, p := range []string{hostGo + "/bin/go", hostBusybox, hostCAs} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("the build stand-in needs %s: %v (scripts/ensure-docker.sh installs busybox-static)", p, err)
		}
	}
	// busybox --list: the applets to link, /bin/sh among them.
	out, err := exec.Command(hostBusybox, "--list").Output()
	if err != nil {
		t.Fatalf("%s --list: %v", hostBusybox, err)
	}
	applets := strings.Fields(string(out))
	goVersion := strings.TrimPrefix(runtime.Version(), "go")
	if b, err := exec.Command(hostGo+"/bin/go", "env", "GOVERSION").Output(); err == nil {
		goVersion = strings.TrimPrefix(strings.TrimSpace(string(b)), "go")
	}
	importImage(t, tag, []string{
		"ENV GOLANG_VERSION=" + goVersion,
		"ENV GOTOOLCHAIN=local",
		"ENV GOPATH=/go",
		"ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"WORKDIR /go",
		"LABEL " + label,
	}, func(l *layer) error {
		for _, d := range []string{"bin", "etc", "etc/ssl", "etc/ssl/certs", "root", "usr", "usr/local", "go", "go/bin", "go/src"} {
			if err := l.dir(d, 0o755, 0); err != nil {
				return err
			}
		}
		if err := l.dir("tmp", 0o1777, 0); err != nil {
			return err
		}
		if err := l.copyFile("bin/busybox", hostBusybox); err != nil {
			return err
		}
		for _, a := range applets {
			if a == "busybox" {
				continue
			}
			if err := l.symlink("bin/"+a, "busybox"); err != nil {
				return err
			}
		}
		if err := l.file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\n")); err != nil {
			return err
		}
		if err := l.file("etc/group", 0o644, []byte("root:x:0:\n")); err != nil {
			return err
		}
		if err := l.copyFile("etc/ssl/certs/ca-certificates.crt", hostCAs); err != nil {
			return err
		}
		return l.copyTree("usr/local/go", hostGo)
	})
}

// runtimeStandin makes the stand-in of distroless static :nonroot.
func runtimeStandin(t testing.TB, tag, label string) {
	t.Helper()
	importImage(t, tag, []string{
		"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
		"USER 65532",
		"WORKDIR /home/nonroot",
		"LABEL " + label,
	}, func(l *layer) error {
		for _, d := range []string{"etc", "etc/ssl", "etc/ssl/certs", "home", "usr", "usr/local", "usr/local/bin"} {
			if err := l.dir(d, 0o755, 0); err != nil {
				return err
			}
		}
		if err := l.dir("tmp", 0o1777, 0); err != nil {
			return err
		}
		if err := l.dir("home/nonroot", 0o700, 65532); err != nil {
			return err
		}
		if err := l.file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")); err != nil {
			return err
		}
		if err := l.file("etc/group", 0o644, []byte("root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n")); err != nil {
			return err
		}
		return l.copyFile("etc/ssl/certs/ca-certificates.crt", hostCAs)
	})
}
