/**
 * The `.cai` spec the soak's `serve` instances load: per-user private routes (`vary_by`
 * Authorization, and one that forgets it behind an authentication middleware, which the
 * loader must still key per user), public cacheable routes, and the writes that invalidate
 * them. Every write endpoint is declared: in plan mode only declared writes invalidate.
 */
export const SOAK_SPEC = `// Written by the soak (soak/spec.ts).
config {
    api_prefix: "/api"
    cache: "redis"
    cache_ttl: "30s"
    cache_prefix: "soak"
}

middleware login {
    type authentication
}

// One copy per user.
middleware per_user {
    type cache
    config {
        ttl: "20s"
        vary_by: "Authorization"
    }
}

// Forgets Authorization: with login in front, the loader keys it per user anyway.
middleware per_language {
    type cache
    config {
        ttl: "20s"
        vary_by: "Accept-Language"
    }
}

middleware public_pages {
    type cache
    config {
        ttl: 15
    }
}

endpoint GET "/me/notes" {
    middleware login
    middleware per_user
}

endpoint GET "/me/notes/:id" {
    middleware login
    middleware per_user
}

endpoint PUT "/me/notes/:id" {
    middleware login
}

endpoint DELETE "/me/notes/:id" {
    middleware login
}

endpoint GET "/me/profile" {
    middleware login
    middleware per_language
}

endpoint PUT "/me/profile" {
    middleware login
}

@cache("15s")
endpoint GET "/posts" {
}

endpoint GET "/posts/:id" {
    middleware public_pages
}

endpoint POST "/posts" {
}

endpoint PUT "/posts/:id" {
}

endpoint DELETE "/posts/:id" {
}
`;
