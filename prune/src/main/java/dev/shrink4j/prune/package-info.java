/** shrink4j prune module; see the project's docs/DESIGN.md for what it owns. */
package dev.shrink4j.prune;
