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

ASSET(dashboard_asset_css, "app.css");
ASSET(dashboard_asset_js, "live.js");
ASSET(dashboard_asset_icon, "icon.svg");
ASSET(dashboard_asset_family_css, "family.css");

int dashboard_web_asset(const char *path, const char **data, size_t *len, const char **type)
{
    const struct {
        const char *path, *start, *end, *type;
    } files[] = {
        { "/static/app.css", dashboard_asset_css_start, dashboard_asset_css_end,
          "text/css; charset=utf-8" },
        { "/static/live.js", dashboard_asset_js_start, dashboard_asset_js_end,
          "text/javascript; charset=utf-8" },
        { "/static/icon.svg", dashboard_asset_icon_start, dashboard_asset_icon_end,
          "image/svg+xml" },
        { "/favicon.ico", dashboard_asset_icon_start, dashboard_asset_icon_end, "image/svg+xml" },
        { "/static/family.css", dashboard_asset_family_css_start, dashboard_asset_family_css_end,
          "text/css; charset=utf-8" },
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
