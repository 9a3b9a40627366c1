// The management API's OpenAPI 3 description, served at /api/openapi.json. Keep it in
// step with api.cpp (api_test checks that every path it lists answers).
#include "central/api.h"

namespace troad::central {

std::string_view OpenApiDocument() {
  static constexpr std::string_view kDocument = R"json({
 "openapi": "3.0.3",
 "info": {
  "title": "troad central management API",
  "version": "1",
  "description": "Registry, access applications, global groups, certificate authority, administrators and audit log of a troad central. See docs/central.md."
 },
 "paths": {
  "/api/v1/login": {
   "post": {
    "summary": "Log in; returns a bearer token",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "security": [],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "username",
         "password"
        ],
        "properties": {
         "username": {
          "type": "string"
         },
         "password": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/logout": {
   "post": {
    "summary": "End this session",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  },
  "/api/v1/me": {
   "get": {
    "summary": "Who the token belongs to",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  },
  "/api/v1/members": {
   "get": {
    "summary": "Members (a member administrator sees its own)",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "post": {
    "summary": "Register a member (operators)",
    "responses": {
     "201": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "id",
         "name"
        ],
        "properties": {
         "id": {
          "type": "string"
         },
         "name": {
          "type": "string"
         },
         "name_en": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/subsystems": {
   "get": {
    "summary": "Subsystems",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "post": {
    "summary": "Register a subsystem",
    "responses": {
     "201": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "id",
         "name"
        ],
        "properties": {
         "id": {
          "type": "string"
         },
         "name": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/gateways": {
   "get": {
    "summary": "Gateways",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "post": {
    "summary": "Register a gateway",
    "responses": {
     "201": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "id",
         "address"
        ],
        "properties": {
         "id": {
          "type": "string"
         },
         "address": {
          "type": "string"
         },
         "clients": {
          "type": "array",
          "items": {
           "type": "string"
          }
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/gateways/update": {
   "post": {
    "summary": "Change a gateway's address and clients",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "id",
         "address"
        ],
        "properties": {
         "id": {
          "type": "string"
         },
         "address": {
          "type": "string"
         },
         "clients": {
          "type": "array",
          "items": {
           "type": "string"
          }
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/gateways/enrollment-codes": {
   "post": {
    "summary": "A one-time enrollment code for a gateway (shown once)",
    "responses": {
     "201": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "gateway"
        ],
        "properties": {
         "gateway": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/services": {
   "get": {
    "summary": "Services",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "post": {
    "summary": "Register a service",
    "responses": {
     "201": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Service"
       }
      }
     }
    }
   }
  },
  "/api/v1/services/update": {
   "post": {
    "summary": "Change a service (enable, disable with a notice, endpoints, OpenAPI)",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Service"
       }
      }
     }
    }
   }
  },
  "/api/v1/applications": {
   "get": {
    "summary": "Access applications the member made or must decide",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "post": {
    "summary": "Apply for access to a service",
    "responses": {
     "201": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "client",
         "service",
         "purpose"
        ],
        "properties": {
         "client": {
          "type": "string"
         },
         "service": {
          "type": "string"
         },
         "purpose": {
          "type": "string"
         },
         "rules": {
          "type": "array",
          "items": {
           "$ref": "#/components/schemas/Endpoint"
          }
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/applications/{id}/approve": {
   "post": {
    "summary": "Approve (the provider)",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [],
        "properties": {
         "reason": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/applications/{id}/reject": {
   "post": {
    "summary": "Reject (the provider); a reason is required",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "reason"
        ],
        "properties": {
         "reason": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/applications/{id}/withdraw": {
   "post": {
    "summary": "Withdraw an application or a grant; a reason is required",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "reason"
        ],
        "properties": {
         "reason": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/groups": {
   "get": {
    "summary": "Global groups with their members (every administrator may read them)",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "post": {
    "summary": "Create a global group, optionally with members (operators)",
    "responses": {
     "201": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "code",
         "description"
        ],
        "properties": {
         "code": {
          "type": "string"
         },
         "description": {
          "type": "string"
         },
         "description_en": {
          "type": "string"
         },
         "members": {
          "type": "array",
          "items": {
           "type": "string"
          }
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/groups/update": {
   "post": {
    "summary": "Replace a global group's descriptions (operators)",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "code",
         "description"
        ],
        "properties": {
         "code": {
          "type": "string"
         },
         "description": {
          "type": "string"
         },
         "description_en": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/groups/delete": {
   "post": {
    "summary": "Delete a global group and its memberships (operators); refused (409) while a grant to it is in force",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "code"
        ],
        "properties": {
         "code": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/groups/members/add": {
   "post": {
    "summary": "Add subsystems to a global group, all or none (operators)",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "group",
         "members"
        ],
        "properties": {
         "group": {
          "type": "string"
         },
         "members": {
          "type": "array",
          "items": {
           "type": "string"
          }
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/groups/members/remove": {
   "post": {
    "summary": "Remove subsystems from a global group, all or none (operators)",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "group",
         "members"
        ],
        "properties": {
         "group": {
          "type": "string"
         },
         "members": {
          "type": "array",
          "items": {
           "type": "string"
          }
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/groups/grants": {
   "get": {
    "summary": "Grants to global groups (a member administrator sees those of its services and of groups its subsystems are in)",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "post": {
    "summary": "Grant a service, or rules of it, to every member of a global group (the provider); a reason is required",
    "responses": {
     "201": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "group",
         "service",
         "reason"
        ],
        "properties": {
         "group": {
          "type": "string"
         },
         "service": {
          "type": "string"
         },
         "reason": {
          "type": "string"
         },
         "rules": {
          "type": "array",
          "items": {
           "$ref": "#/components/schemas/Endpoint"
          }
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/groups/grants/{id}/withdraw": {
   "post": {
    "summary": "Withdraw a grant to a global group (the provider); a reason is required",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "reason"
        ],
        "properties": {
         "reason": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/certificate-requests": {
   "get": {
    "summary": "Certificate requests",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  },
  "/api/v1/certificate-requests/{id}/approve": {
   "post": {
    "summary": "Issue the certificate (operators)",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [],
        "properties": {
         "reason": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/certificate-requests/{id}/reject": {
   "post": {
    "summary": "Reject (operators); a reason is required",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "reason"
        ],
        "properties": {
         "reason": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/certificates": {
   "get": {
    "summary": "Issued certificates",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  },
  "/api/v1/certificates/{fingerprint}/revoke": {
   "post": {
    "summary": "Revoke a certificate; a reason is required",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "reason"
        ],
        "properties": {
         "reason": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    },
    "parameters": [
     {
      "name": "fingerprint",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/globalconf": {
   "get": {
    "summary": "The published global configuration's version and expiry",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    }
   }
  },
  "/api/v1/admins": {
   "get": {
    "summary": "Administrator accounts",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    }
   },
   "post": {
    "summary": "Create an administrator",
    "responses": {
     "201": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "username",
         "password",
         "role"
        ],
        "properties": {
         "username": {
          "type": "string"
         },
         "password": {
          "type": "string"
         },
         "role": {
          "type": "string",
          "enum": [
           "operator",
           "member-admin"
          ]
         },
         "member": {
          "type": "string"
         },
         "display_name": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/admins/{username}/disable": {
   "post": {
    "summary": "Disable an account",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "parameters": [
     {
      "name": "username",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/admins/{username}/enable": {
   "post": {
    "summary": "Enable an account",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "parameters": [
     {
      "name": "username",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/admins/{username}/password": {
   "post": {
    "summary": "Set a password",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "password"
        ],
        "properties": {
         "password": {
          "type": "string"
         },
         "current_password": {
          "type": "string"
         }
        },
        "additionalProperties": false
       }
      }
     }
    },
    "parameters": [
     {
      "name": "username",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/audit": {
   "get": {
    "summary": "Audit log entries",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "parameters": [
     {
      "name": "from",
      "in": "query",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "to",
      "in": "query",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "actor",
      "in": "query",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "member",
      "in": "query",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "after_id",
      "in": "query",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "limit",
      "in": "query",
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/audit/export": {
   "get": {
    "summary": "The audit log as JSON Lines",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "parameters": [
     {
      "name": "from",
      "in": "query",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "to",
      "in": "query",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "actor",
      "in": "query",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "member",
      "in": "query",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "after_id",
      "in": "query",
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/v1/enrollment": {
   "post": {
    "summary": "A gateway submits its certificate requests with an enrollment code",
    "responses": {
     "202": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "security": [],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "gateway",
         "code",
         "requests"
        ],
        "properties": {
         "gateway": {
          "type": "string"
         },
         "code": {
          "type": "string"
         },
         "requests": {
          "type": "array",
          "items": {
           "type": "object",
           "required": [
            "kind",
            "owner",
            "csr"
           ],
           "properties": {
            "kind": {
             "type": "string",
             "enum": [
              "authentication",
              "signing"
             ]
            },
            "owner": {
             "type": "string"
            },
            "csr": {
             "type": "string"
            }
           },
           "additionalProperties": false
          }
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/enrollment/status": {
   "post": {
    "summary": "A gateway collects its certificates",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "security": [],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "gateway",
         "code",
         "ids"
        ],
        "properties": {
         "gateway": {
          "type": "string"
         },
         "code": {
          "type": "string"
         },
         "ids": {
          "type": "array",
          "items": {
           "type": "integer"
          }
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/renewal": {
   "post": {
    "summary": "A gateway renews a certificate, proving its current key (no session)",
    "description": "signature = base64 (standard, padded) of the current key's ES256/RS256 signature over the ASCII bytes 'troad-renewal/1' LF followed by the CSR's DER. Policy [ca] renewal: auto answers 201 with the certificate, review 202 with the pending request. 403: the current certificate is unknown, of another owner or kind, revoked or expired; 401: the signature does not verify; 400: a malformed field or CSR, or the current key again; 409: a renewal of the same owner and kind is pending. See docs/central.md, Renewal.",
    "responses": {
     "201": {
      "description": "Issued (policy auto): {request, certificate, ca_certificate}"
     },
     "202": {
      "description": "Pending an operator's approval (policy review): {request}"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "security": [],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "kind",
         "owner",
         "current_certificate_sha256",
         "csr",
         "signature"
        ],
        "properties": {
         "kind": {
          "type": "string",
          "enum": [
           "authentication",
           "signing"
          ]
         },
         "owner": {
          "type": "string",
          "description": "the gateway id (authentication) or member id (signing)"
         },
         "current_certificate_sha256": {
          "type": "string",
          "pattern": "^[0-9a-f]{64}$"
         },
         "csr": {
          "type": "string",
          "description": "PEM PKCS#10 request for the new key, subject as for enrollment"
         },
         "signature": {
          "type": "string",
          "format": "byte"
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/api/v1/renewal/status": {
   "post": {
    "summary": "A gateway collects a renewed certificate, proving the key the renewal was made with",
    "description": "signature = base64 of the current key's signature over the ASCII bytes 'troad-renewal-status/1' LF followed by the request id in decimal. Answers {request, certificate (once approved), ca_certificate}.",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "security": [],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "id",
         "current_certificate_sha256",
         "signature"
        ],
        "properties": {
         "id": {
          "type": "integer",
          "minimum": 1
         },
         "current_certificate_sha256": {
          "type": "string",
          "pattern": "^[0-9a-f]{64}$"
         },
         "signature": {
          "type": "string",
          "format": "byte"
         }
        },
        "additionalProperties": false
       }
      }
     }
    }
   }
  },
  "/globalconf/v1/document": {
   "get": {
    "summary": "The signed global configuration document (ETag, If-None-Match)",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "security": []
   }
  },
  "/globalconf/v1/signatures/{sha256}": {
   "get": {
    "summary": "The detached signature of a published document",
    "responses": {
     "200": {
      "description": "OK"
     },
     "400": {
      "$ref": "#/components/responses/Error"
     },
     "401": {
      "$ref": "#/components/responses/Error"
     },
     "403": {
      "$ref": "#/components/responses/Error"
     },
     "404": {
      "$ref": "#/components/responses/Error"
     },
     "409": {
      "$ref": "#/components/responses/Error"
     }
    },
    "security": [],
    "parameters": [
     {
      "name": "sha256",
      "in": "path",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  }
 },
 "security": [
  {
   "bearer": []
  }
 ],
 "components": {
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer"
   }
  },
  "responses": {
   "Error": {
    "description": "Refused",
    "content": {
     "application/json": {
      "schema": {
       "type": "object",
       "properties": {
        "error": {
         "type": "object",
         "properties": {
          "code": {
           "type": "string"
          },
          "message": {
           "type": "string"
          }
         }
        }
       }
      }
     }
    }
   }
  },
  "schemas": {
   "Endpoint": {
    "type": "object",
    "required": [
     "method",
     "path"
    ],
    "properties": {
     "method": {
      "type": "string"
     },
     "path": {
      "type": "string"
     }
    },
    "additionalProperties": false
   },
   "Service": {
    "type": "object",
    "required": [
     "id"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "type": {
      "type": "string",
      "enum": [
       "REST",
       "OPENAPI"
      ]
     },
     "description": {
      "type": "string"
     },
     "enabled": {
      "type": "boolean"
     },
     "disabled_notice": {
      "type": "string"
     },
     "endpoints": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Endpoint"
      }
     },
     "openapi": {
      "type": "object"
     }
    },
    "additionalProperties": false
   }
  }
 }
})json";
  return kDocument;
}

}  // namespace troad::central
