// htm bound to preact's h: the page's components write markup as tagged templates, no build step.
import { h } from 'preact'
import htm from 'htm'

export const html = htm.bind(h)
