#include "connect/tls_certificate.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "common/errors.hpp"

namespace spark_slurm {

namespace {

template <auto Free>
struct Deleter {
    template <typename T>
    void operator()(T* object) const {
        Free(object);
    }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, Deleter<GENERAL_NAME_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using Asn1StringPtr = std::unique_ptr<ASN1_IA5STRING, Deleter<ASN1_IA5STRING_free>>;
using OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, Deleter<ASN1_OCTET_STRING_free>>;

// OpenSSL reports why on its own error queue; the message names what we were doing and that.
[[noreturn]] void fail(const std::string& doing) {
    std::string cause = "unknown OpenSSL error";
    if (unsigned long code = ERR_get_error(); code != 0) {
        char text[256];
        ERR_error_string_n(code, text, sizeof text);
        cause = text;
    }
    ERR_clear_error();
    throw LaunchError("while making the gateway certificate: " + doing + ": " + cause);
}

void check(bool ok, const std::string& doing) {
    if (!ok) fail(doing);
}

PkeyPtr make_p256_key() {
    PkeyPtr key(EVP_EC_gen("P-256"));
    check(key != nullptr, "generating the EC P-256 key");
    return key;
}

// 159 random bits: positive and at most 20 bytes, as RFC 5280 asks of a serial number.
void set_random_serial(X509* certificate) {
    unsigned char bytes[20];
    check(RAND_bytes(bytes, sizeof bytes) == 1, "drawing the serial number");
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;  // never zero, never a leading zero byte
    BignumPtr serial(BN_bin2bn(bytes, sizeof bytes, nullptr));
    check(serial != nullptr, "converting the serial number");
    check(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate)) != nullptr,
          "setting the serial number");
}

// "X509_add1_ext_i2d" takes ownership of nothing: the value is encoded and copied.
void add_extension(X509* certificate, int nid, void* value, bool critical,
                   const std::string& what) {
    check(X509_add1_ext_i2d(certificate, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) == 1,
          "adding " + what);
}

void add_subject_alt_names(X509* certificate, const std::vector<std::string>& dns_names,
                           const std::vector<std::string>& ip_addresses) {
    GeneralNamesPtr names(GENERAL_NAMES_new());
    check(names != nullptr, "allocating the subjectAltName");
    for (const auto& dns : dns_names) {
        Asn1StringPtr text(ASN1_IA5STRING_new());
        check(text != nullptr &&
                  ASN1_STRING_set(text.get(), dns.data(), static_cast<int>(dns.size())) == 1,
              "encoding the DNS name '" + dns + "'");
        GeneralNamePtr name(GENERAL_NAME_new());
        check(name != nullptr, "allocating a subjectAltName entry");
        GENERAL_NAME_set0_value(name.get(), GEN_DNS, text.release());
        check(sk_GENERAL_NAME_push(names.get(), name.get()) > 0, "adding the DNS name " + dns);
        name.release();  // now owned by `names`
    }
    for (const auto& ip : ip_addresses) {
        // a2i_IPADDRESS takes dotted IPv4 and textual IPv6 and nothing else (no host names).
        OctetStringPtr octets(a2i_IPADDRESS(ip.c_str()));
        if (octets == nullptr) {
            ERR_clear_error();
            throw LaunchError("while making the gateway certificate: '" + ip +
                              "' is not a numeric IP address");
        }
        GeneralNamePtr name(GENERAL_NAME_new());
        check(name != nullptr, "allocating a subjectAltName entry");
        GENERAL_NAME_set0_value(name.get(), GEN_IPADD, octets.release());
        check(sk_GENERAL_NAME_push(names.get(), name.get()) > 0, "adding the address " + ip);
        name.release();
    }
    add_extension(certificate, NID_subject_alt_name, names.get(), false, "the subjectAltName");
}

void add_constraints(X509* certificate) {
    // CA:TRUE because the certificate is its own trust anchor: gRPC (BoringSSL) loads the roots
    // file as CAs, and a leaf used as a root must be allowed to sign (keyCertSign) itself.
    std::unique_ptr<BASIC_CONSTRAINTS, Deleter<BASIC_CONSTRAINTS_free>> basic(
        BASIC_CONSTRAINTS_new());
    check(basic != nullptr, "allocating basicConstraints");
    basic->ca = 0xff;
    add_extension(certificate, NID_basic_constraints, basic.get(), true, "basicConstraints");

    std::unique_ptr<ASN1_BIT_STRING, Deleter<ASN1_BIT_STRING_free>> usage(ASN1_BIT_STRING_new());
    check(usage != nullptr && ASN1_BIT_STRING_set_bit(usage.get(), 0, 1) == 1 &&  // digitalSig.
              ASN1_BIT_STRING_set_bit(usage.get(), 5, 1) == 1,                    // keyCertSign
          "encoding keyUsage");
    add_extension(certificate, NID_key_usage, usage.get(), true, "keyUsage");

    // serverAuth: some verifiers (Go, BoringSSL in strict modes) check the EKU of a server leaf.
    std::unique_ptr<EXTENDED_KEY_USAGE, Deleter<EXTENDED_KEY_USAGE_free>> extended(
        sk_ASN1_OBJECT_new_null());
    check(extended != nullptr &&
              sk_ASN1_OBJECT_push(extended.get(), OBJ_nid2obj(NID_server_auth)) > 0,
          "encoding extendedKeyUsage");
    add_extension(certificate, NID_ext_key_usage, extended.get(), false, "extendedKeyUsage");
}

std::string bio_contents(BIO* bio) {
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

TlsIdentity make_self_signed_identity(const std::vector<std::string>& dns_names,
                                      const std::vector<std::string>& ip_addresses,
                                      std::chrono::hours validity) {
    if (dns_names.empty())
        throw LaunchError("while making the gateway certificate: no DNS name for its subject");
    PkeyPtr key = make_p256_key();
    X509Ptr certificate(X509_new());
    check(certificate != nullptr, "allocating the certificate");
    check(X509_set_version(certificate.get(), X509_VERSION_3) == 1, "setting the version");
    set_random_serial(certificate.get());

    // A minute of slack before now, for clocks of the client's node that run slightly behind.
    check(X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -60) != nullptr &&
              X509_gmtime_adj(X509_getm_notAfter(certificate.get()),
                              static_cast<long>(validity.count()) * 3600) != nullptr,
          "setting the validity");

    NamePtr name(X509_NAME_new());
    check(name != nullptr && X509_NAME_add_entry_by_txt(
                                 name.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(dns_names.front().c_str()),
                                 -1, -1, 0) == 1,
          "setting the common name");
    check(X509_set_subject_name(certificate.get(), name.get()) == 1 &&
              X509_set_issuer_name(certificate.get(), name.get()) == 1,
          "setting subject and issuer");
    check(X509_set_pubkey(certificate.get(), key.get()) == 1, "setting the public key");

    add_subject_alt_names(certificate.get(), dns_names, ip_addresses);
    add_constraints(certificate.get());
    check(X509_sign(certificate.get(), key.get(), EVP_sha256()) > 0, "signing");

    BioPtr certificate_bio(BIO_new(BIO_s_mem()));
    BioPtr key_bio(BIO_new(BIO_s_mem()));
    check(certificate_bio != nullptr && key_bio != nullptr, "allocating memory BIOs");
    check(PEM_write_bio_X509(certificate_bio.get(), certificate.get()) == 1,
          "writing the certificate PEM");
    check(PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                   nullptr) == 1,
          "writing the key PEM");
    return TlsIdentity{bio_contents(certificate_bio.get()), bio_contents(key_bio.get())};
}

}  // namespace spark_slurm
