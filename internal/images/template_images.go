package images

// The images of the template catalogue beyond nginx and node.
const (
	// NodeBuild is Node with Debian's npm: the npm templates build with
	// it, and their sandboxes run on it.
	NodeBuild = "berth/node-build:bookworm"
	// Python is Debian's Python with pip, FastAPI and uvicorn, in place
	// of the official python image.
	Python = "berth/python:bookworm"
)

// templateImages are the runtimes of the template catalogue beyond nginx
// and node, in dependency order (bases come before).
var templateImages = []image{
	{ref: NodeBuild, base: Node, dir: "node-build"},
	{ref: Python, base: Debian, dir: "python"},
}
