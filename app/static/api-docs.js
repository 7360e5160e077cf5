// The API documentation page: Swagger UI (vendored) over this server's own OpenAPI document.
window.addEventListener("DOMContentLoaded", function () {
  "use strict";
  window.SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    defaultModelsExpandDepth: 0,
  });
});
