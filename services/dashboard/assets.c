/* assets: the dashboard's static files (services/dashboard/assets/), linked into the daemon so a
 * deployment has nothing else to install. `.incbin` reads them at build time (paths from the
 * repository root, where make runs); the Makefile makes assets.o depend on them. */
#include "web.h"
#include "err.h"

#include <string.h>

#define ASSET(sym, file)                                                      \
    __asm__(".section .rodata\n"                                              \
            ".global " #sym "_start\n"                                        \
            ".global " #sym "_end\n" #sym "_start:\n"                         \
            ".incbin \"services/dashboard/assets/" file "\"\n" #sym "_end:\n" \
            ".byte 0\n"                                                       \
            ".previous\n");                                                   \
    extern const char sym##_start[], sym##_end[]

ASSET(agency_asset_css, "app.css");
ASSET(agency_asset_js, "live.js");
ASSET(agency_asset_icon, "icon.svg");

int agency_web_asset(const char *path, const char **data, size_t *len, const char **type)
{
    const struct {
        const char *path, *start, *end, *type;
    } files[] = {
        { "/static/app.css", agency_asset_css_start, agency_asset_css_end,
          "text/css; charset=utf-8" },
        { "/static/live.js", agency_asset_js_start, agency_asset_js_end,
          "text/javascript; charset=utf-8" },
        { "/static/icon.svg", agency_asset_icon_start, agency_asset_icon_end, "image/svg+xml" },
        { "/favicon.ico", agency_asset_icon_start, agency_asset_icon_end, "image/svg+xml" },
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (strcmp(path, files[i].path) == 0) {
            *data = files[i].start;
            *len = (size_t)(files[i].end - files[i].start);
            *type = files[i].type;
            return 0;
        }
    }
    return TACNET_ENOTFOUND;
}
