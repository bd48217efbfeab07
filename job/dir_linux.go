package job

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/unix"
)

// A folder of the photo library read with the system calls a warm morning
// is made of (walkDir): Linux's getdents64 and fstatat, straight into
// reused buffers. os.ReadDir with Info costs about half as much again
// (a FileInfo and its strings per file, and on file systems that do not
// give entry types, such as this machine's, a second lstat).

// fileID names a file independently of its path: device and inode.
type fileID struct{ dev, ino uint64 }

func fileIDOf(fi fs.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{uint64(st.Dev), uint64(st.Ino)}
	}
	return fileID{}
}

// The type a listing gives a name (d_type), when it gives one.
const (
	typeUnknown = iota
	typeDir
	typeRegular
	typeOther
)

type dirName struct {
	name string
	typ  int
}

type dir struct {
	fd int
	st unix.Stat_t
}

func openDir(path string) (*dir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return &dir{fd: fd}, nil
}

func (d *dir) close() { unix.Close(d.fd) }

// names lists the folder, without "." and "..", hidden names left out.
func (d *dir) names() ([]dirName, error) {
	var out []dirName
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Getdents(d.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: ".", Err: err}
		}
		if n <= 0 {
			return out, nil
		}
		for b := buf[:n]; len(b) >= 19; {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
			reclen := int(b[16]) | int(b[17])<<8
			if reclen < 19 || reclen > len(b) {
				return nil, &fs.PathError{Op: "readdir", Path: ".", Err: unix.EIO}
			}
			name := b[19:reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			typ := typeOther
			switch b[18] {
			case unix.DT_UNKNOWN:
				typ = typeUnknown
			case unix.DT_DIR:
				typ = typeDir
			case unix.DT_REG:
				typ = typeRegular
			case unix.DT_LNK:
				typ = typeUnknown // what it points to is entryFor's to judge
			}
			if len(name) > 0 && name[0] != '.' {
				out = append(out, dirName{string(name), typ})
			}
			b = b[reclen:]
		}
	}
}

// stated is what fstatat says of a name in the folder (not following a
// symbolic link).
type stated struct {
	dir, regular bool
	size, mod    int64 // mod: the modification time in Unix nanoseconds
	id           fileID
}

func (d *dir) stat(name string) (stated, error) {
	var err error
	for {
		if err = unix.Fstatat(d.fd, name, &d.st, unix.AT_SYMLINK_NOFOLLOW); err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return stated{}, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	st := &d.st
	return stated{
		dir:     st.Mode&unix.S_IFMT == unix.S_IFDIR,
		regular: st.Mode&unix.S_IFMT == unix.S_IFREG,
		size:    st.Size,
		mod:     st.Mtim.Sec*1e9 + st.Mtim.Nsec,
		id:      fileID{uint64(st.Dev), uint64(st.Ino)},
	}, nil
}
