module github.com/berth-dev/berth/client

go 1.26.0
