#include <catch2/catch.hpp>

#include "transports/iscsi/iscsi_uri.hpp"

using namespace mpiod;

TEST_CASE("iscsi URI helpers", "[iscsi][uri]") {
    CHECK(is_iscsi_uri("iscsi://h/t/1"));
    CHECK_FALSE(is_iscsi_uri("nbd://h"));
    CHECK(redact_iscsi_uri("iscsi://u%pw@h:3260/iqn.x:y/1") == "iscsi://u%***@h:3260/iqn.x:y/1");
    CHECK(redact_iscsi_uri("iscsi://u@h/iqn.x:y/1") == "iscsi://u@h/iqn.x:y/1");
    CHECK(redact_iscsi_uri("iscsi://h/iqn.x:y/1") == "iscsi://h/iqn.x:y/1");
    CHECK(iscsi_uri_credentials("iscsi://u%pw@h:3260") == "u%pw@");
    CHECK(iscsi_uri_credentials("iscsi://h:3260") == "");
    CHECK(make_iscsi_uri("u%pw@", "h:3260", "iqn.x:y", 4) == "iscsi://u%pw@h:3260/iqn.x:y/4");
}
