// Package images makes Berth's local base images. Nothing can be pulled
// from a registry on the machines Berth runs on, so the Debian base is
// made with debootstrap and imported, and the others are built FROM it
// with Dockerfiles embedded here. Which image a template uses is
// configured elsewhere; these are the defaults.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"time"

	"github.com/berth-dev/berth/internal/agent"
)

// The images Build makes.
const (
	// Debian is a minimal Debian bookworm (debootstrap's minbase).
	Debian = "berth/debian:bookworm"
	// Nginx serves /usr/share/nginx/html on port 8080.
	Nginx = "berth/nginx:bookworm"
	// Node is Debian's Node.js 18 with the CA bundle, without npm.
	Node = "berth/node:bookworm"
)

// Labels Build puts on the images it makes, so that it can tell when one
// is stale.
const (
	// LabelRecipe is the sha256 of what the image was made from: its
	// build context (Dockerfile and the files it copies), or for Debian
	// its debootstrap command.
	LabelRecipe = "berth.images.recipe-sha256"
	// LabelBase is the id of the base image a Dockerfile was built on.
	LabelBase = "berth.images.base-id"
)

//go:embed dockerfiles
var dockerfiles embed.FS

// Engine is what Build needs from a container engine. *docker.Runtime
// implements it.
type Engine interface {
	// InspectImage returns an image's id and labels; a missing image is
	// agent.ErrNotFound.
	InspectImage(ctx context.Context, ref string) (id string, labels map[string]string, err error)
	BuildImage(ctx context.Context, ref string, buildContext io.Reader, dockerfile string, labels map[string]string, log io.Writer) error
	// ImportImage makes ref from a tar of a root filesystem, applying
	// Dockerfile instructions in changes.
	ImportImage(ctx context.Context, ref string, rootfs io.Reader, changes []string) error
	// RemoveImageIfUntagged removes the image id unless a tag, a
	// container or another image still uses it.
	RemoveImageIfUntagged(ctx context.Context, id string) error
}

// image is one image Build makes: Debian is imported, the others are
// built from dockerfiles/<dir> on their base.
type image struct {
	ref  string
	base string
	dir  string
}

// all is in dependency order: the core images, then those of the
// templates and of the data services (each list in its own file).
var all = slices.Concat([]image{
	{ref: Debian},
	{ref: Nginx, base: Debian, dir: "nginx"},
	{ref: Node, base: Debian, dir: "node"},
}, templateImages, dataImages)

// Refs returns the images Build makes, bases first.
func Refs() []string {
	refs := make([]string, len(all))
	for i, im := range all {
		refs[i] = im.ref
	}
	return refs
}

// Build makes every image that is missing, in dependency order. An image
// built from a Dockerfile is also rebuilt when its Dockerfile (or a file
// it copies) changed or its base was remade. With force, Debian is made
// afresh, and so every image built on it. Making Debian needs root and
// debootstrap; nothing else does. Progress and build logs go to log.
func Build(ctx context.Context, e Engine, log io.Writer, force bool) error {
	return Ensure(ctx, e, log, force, Refs()...)
}

// Ensure is Build for refs and the bases they need only.
func Ensure(ctx context.Context, e Engine, log io.Writer, force bool, refs ...string) error {
	want := map[string]bool{}
	for _, ref := range refs {
		im, ok := lookup(ref)
		if !ok {
			return fmt.Errorf("unknown image %s", ref)
		}
		for ; ok; im, ok = lookup(im.base) {
			want[im.ref] = true
		}
	}
	var list []image
	for _, im := range all {
		if want[im.ref] {
			list = append(list, im)
		}
	}
	return build(ctx, e, log, force, list)
}

// build makes the images of list, which is in dependency order.
func build(ctx context.Context, e Engine, log io.Writer, force bool, list []image) error {
	if log == nil {
		log = io.Discard
	}
	// Another process (a parallel test package, a second agent) may be
	// making the same images: take turns, then look again.
	unlock, err := lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	// The images a rebuild replaced go at the end, dependents first, so
	// that an old base no longer has the old images built on it.
	var replaced []string
	defer func() {
		for _, id := range slices.Backward(replaced) {
			_ = e.RemoveImageIfUntagged(ctx, id)
		}
	}()
	for _, im := range list {
		oldID, _, _ := e.InspectImage(ctx, im.ref)
		if err := ensure(ctx, e, log, im, force); err != nil {
			return err
		}
		if newID, _, err := e.InspectImage(ctx, im.ref); err == nil && oldID != "" && newID != oldID {
			replaced = append(replaced, oldID)
		}
	}
	// The neutral aliases move to the new images before the old ones go.
	if t, ok := e.(Tagger); ok {
		return EnsureAliases(ctx, t)
	}
	return nil
}

func lookup(ref string) (image, bool) {
	i := slices.IndexFunc(all, func(im image) bool { return im.ref == ref })
	if i < 0 {
		return image{}, false
	}
	return all[i], true
}

// ensure makes im when it is missing or stale.
func ensure(ctx context.Context, e Engine, log io.Writer, im image, force bool) error {
	_, labels, err := e.InspectImage(ctx, im.ref)
	if err != nil && !errors.Is(err, agent.ErrNotFound) {
		return err
	}
	exists := err == nil

	if im.dir == "" {
		if exists && !force {
			return nil
		}
		start := time.Now()
		fmt.Fprintf(log, "making %s with debootstrap\n", im.ref)
		if err := importDebian(ctx, e, log, im.ref); err != nil {
			return err
		}
		fmt.Fprintf(log, "made %s in %s\n", im.ref, time.Since(start).Round(time.Second))
		return nil
	}

	baseID, _, err := e.InspectImage(ctx, im.base)
	if err != nil {
		return fmt.Errorf("building %s: base image: %w", im.ref, err)
	}
	buildContext, recipe, err := contextTar(im.dir)
	if err != nil {
		return fmt.Errorf("building %s: %w", im.ref, err)
	}
	if exists && !force && labels[LabelRecipe] == recipe && labels[LabelBase] == baseID {
		return nil
	}
	start := time.Now()
	fmt.Fprintf(log, "building %s\n", im.ref)
	err = e.BuildImage(ctx, im.ref, bytes.NewReader(buildContext), "Dockerfile",
		map[string]string{LabelRecipe: recipe, LabelBase: baseID}, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "built %s in %s\n", im.ref, time.Since(start).Round(time.Second))
	return nil
}

// contextTar returns dockerfiles/<dir> as a build context, and the
// sha256 of its files' names and contents. The tar is deterministic.
func contextTar(dir string) ([]byte, string, error) {
	root := path.Join("dockerfiles", dir)
	var names []string
	err := fs.WalkDir(dockerfiles, root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("reading build context: %w", err)
	}
	slices.Sort(names)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	sum := sha256.New()
	for _, name := range names {
		data, err := dockerfiles.ReadFile(name)
		if err != nil {
			return nil, "", fmt.Errorf("reading build context: %w", err)
		}
		rel := name[len(root)+1:]
		fmt.Fprintf(sum, "%s\x00%d\x00", rel, len(data))
		sum.Write(data)
		hdr := &tar.Header{Name: rel, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, "", fmt.Errorf("writing build context: %w", err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, "", fmt.Errorf("writing build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, "", fmt.Errorf("writing build context: %w", err)
	}
	return buf.Bytes(), hex.EncodeToString(sum.Sum(nil)), nil
}
