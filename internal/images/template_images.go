package images

// templateImages are the runtimes of the template catalogue beyond nginx
// and node, in dependency order (bases come before).
var templateImages = []image{}
