package images

// dataImages are the managed data services' images, in dependency order.
var dataImages = []image{}
