module github.com/berth-dev/berth

go 1.26.0
