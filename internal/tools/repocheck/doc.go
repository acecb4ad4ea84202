// Package repocheck holds tests about the repository itself, such as that
// `make fuzz` runs every fuzz target in the tree. It has no code.
package repocheck
