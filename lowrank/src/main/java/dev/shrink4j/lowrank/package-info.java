/** shrink4j lowrank module; see the project's docs/DESIGN.md for what it owns. */
package dev.shrink4j.lowrank;
