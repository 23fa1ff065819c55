/* version: tacnet's release, printed by `tacnet --version` and each daemon's `--version`, and
 * the wire schema it speaks (wire.h). Bumped by hand at a release. */
#ifndef TACNET_VERSION_H
#define TACNET_VERSION_H

#define TACNET_VERSION "0.16.0"

#endif
