# Reference VCL for edgepurge's Varnish purger (Varnish 7, vcl 4.1, the xkey
# vmod from varnish-modules). It implements exactly what purge/varnish sends:
#
#   PURGE <path?query>  Host: <url host>           evict one URL, every Vary variant
#   PURGE /             xkey: <tag> <tag> ...       evict every object tagged so
#   PURGE /             xkey-softpurge: <tags>      the same, kept for grace
#   BAN /               X-Ban-Host: <host>          every object of a host
#   BAN /               X-Ban-Host: <host>
#                       X-Ban-Prefix: </path>       every object under host+path
#   BAN /               X-Ban-All: true             everything
#
# Answers: 200 done, 400 a BAN without a target, 405 the client is not in
# the purgers ACL. Adapt the backend and the ACL; keep the rest.
vcl 4.1;

import std;
import xkey;

# The origin serving the status pages.
backend default {
    .host = "127.0.0.1";
    .port = "8081";
}

# Who may purge: the hosts edgepurge runs on. Everything else is refused.
acl purgers {
    "localhost";
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    # One spelling of a host, so the purger's Host finds the reader's object.
    if (req.http.host) {
        set req.http.host = std.tolower(regsub(req.http.host, "\.$", ""));
    }
    if (req.method == "PURGE" || req.method == "BAN") {
        if (client.ip !~ purgers) {
            return (synth(405, "Not allowed"));
        }
        if (req.method == "BAN") {
            call edgepurge_ban;
        }
        if (req.http.xkey-softpurge) {
            set req.http.X-Purged = xkey.softpurge(req.http.xkey-softpurge);
            return (synth(200, "Soft-purged " + req.http.X-Purged));
        }
        if (req.http.xkey) {
            set req.http.X-Purged = xkey.purge(req.http.xkey);
            return (synth(200, "Purged " + req.http.X-Purged));
        }
        # Purges the whole hash (host + URL): every Vary variant goes.
        return (purge);
    }
}

# Bans test headers copied onto the object (see vcl_backend_response), so the
# ban lurker can evict them in the background, without waiting for a request.
sub edgepurge_ban {
    if (req.http.X-Ban-All == "true") {
        ban("obj.status != 0");
        return (synth(200, "Banned all"));
    }
    if (!req.http.X-Ban-Host) {
        return (synth(400, "BAN needs X-Ban-Host or X-Ban-All"));
    }
    if (req.http.X-Ban-Prefix) {
        # The prefix is literal: escape the regex metacharacters.
        ban("obj.http.X-Edgepurge-Host == " + std.tolower(req.http.X-Ban-Host) +
            " && obj.http.X-Edgepurge-Url ~ ^" +
            regsuball(req.http.X-Ban-Prefix, "([\\^$.|?*+()\[\]{}])", "\\\1"));
        return (synth(200, "Banned prefix"));
    }
    ban("obj.http.X-Edgepurge-Host == " + std.tolower(req.http.X-Ban-Host));
    return (synth(200, "Banned host"));
}

sub vcl_hash {
    # Host and URL, nothing else: a PURGE with the page's Host finds it.
    hash_data(req.url);
    if (req.http.host) {
        hash_data(req.http.host);
    } else {
        hash_data(server.ip);
    }
    return (lookup);
}

sub vcl_backend_response {
    # For bans.
    set beresp.http.X-Edgepurge-Host = bereq.http.host;
    set beresp.http.X-Edgepurge-Url = bereq.url;
    # Cloudflare-style tags are xkeys too (xkey splits on spaces and commas).
    if (beresp.http.Cache-Tag) {
        if (beresp.http.xkey) {
            set beresp.http.xkey = beresp.http.xkey + " " + beresp.http.Cache-Tag;
        } else {
            set beresp.http.xkey = beresp.http.Cache-Tag;
        }
    }
}

sub vcl_deliver {
    # Readers see whether they got a cached copy; the index headers stay inside.
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    unset resp.http.X-Edgepurge-Host;
    unset resp.http.X-Edgepurge-Url;
    unset resp.http.xkey;
}
