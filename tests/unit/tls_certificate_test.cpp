// The gateway's self-signed certificate: the names a client checks, the flags that let it be its
// own trust root, and its key.
#include "connect/tls_certificate.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>

#include "common/errors.hpp"

namespace spark_slurm {
namespace {

struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr parse_certificate(const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                  BIO_free);
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

TEST(TlsCertificate, NamesEveryDnsNameAndAddressInTheSubjectAltName) {
    auto identity = make_self_signed_identity(
        {"leader.cluster", "localhost"}, {"10.1.2.3", "127.0.0.1", "::1"}, std::chrono::hours(24));
    X509Ptr certificate = parse_certificate(identity.certificate_pem);
    ASSERT_TRUE(certificate);
    EXPECT_EQ(X509_check_host(certificate.get(), "leader.cluster", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_host(certificate.get(), "localhost", 0, 0, nullptr), 1);
    EXPECT_EQ(X509_check_ip_asc(certificate.get(), "10.1.2.3", 0), 1);
    EXPECT_EQ(X509_check_ip_asc(certificate.get(), "::1", 0), 1);
    EXPECT_NE(X509_check_ip_asc(certificate.get(), "10.1.2.4", 0), 1);
    EXPECT_NE(X509_check_host(certificate.get(), "other.cluster", 0, 0, nullptr), 1);

    char common_name[256] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(certificate.get()), NID_commonName, common_name,
                              sizeof common_name);
    EXPECT_STREQ(common_name, "leader.cluster");
    EXPECT_EQ(X509_get_version(certificate.get()), X509_VERSION_3);
}

TEST(TlsCertificate, VerifiesAgainstItselfAsTheOnlyTrustRootForAServer) {
    auto identity =
        make_self_signed_identity({"leader.cluster"}, {"10.1.2.3"}, std::chrono::hours(1));
    X509Ptr certificate = parse_certificate(identity.certificate_pem);
    ASSERT_TRUE(certificate);
    EXPECT_GT(X509_check_ca(certificate.get()), 0);
    EXPECT_NE(X509_get_key_usage(certificate.get()) & KU_KEY_CERT_SIGN, 0u);
    EXPECT_NE(X509_get_key_usage(certificate.get()) & KU_DIGITAL_SIGNATURE, 0u);

    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(),
                                                                  X509_STORE_free);
    ASSERT_EQ(X509_STORE_add_cert(store.get(), certificate.get()), 1);
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> context(X509_STORE_CTX_new(),
                                                                            X509_STORE_CTX_free);
    ASSERT_EQ(X509_STORE_CTX_init(context.get(), store.get(), certificate.get(), nullptr), 1);
    X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM_set1_ip_asc(X509_STORE_CTX_get0_param(context.get()), "10.1.2.3");
    EXPECT_EQ(X509_verify_cert(context.get()), 1)
        << X509_verify_cert_error_string(X509_STORE_CTX_get_error(context.get()));
}

TEST(TlsCertificate, KeyBelongsToTheCertificateAndSerialsDiffer) {
    auto first = make_self_signed_identity({"a"}, {}, std::chrono::hours(1));
    auto second = make_self_signed_identity({"a"}, {}, std::chrono::hours(1));
    X509Ptr certificate = parse_certificate(first.certificate_pem);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(first.private_key_pem.data(), int(first.private_key_pem.size())), BIO_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    ASSERT_TRUE(certificate && key);
    EXPECT_EQ(X509_check_private_key(certificate.get(), key.get()), 1);
    EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 256);
    X509Ptr other = parse_certificate(second.certificate_pem);
    EXPECT_NE(ASN1_INTEGER_cmp(X509_get_serialNumber(certificate.get()),
                               X509_get_serialNumber(other.get())),
              0);
    EXPECT_NE(first.private_key_pem, second.private_key_pem);
}

TEST(TlsCertificate, RejectsAHostNameAsAnAddressAndAMissingName) {
    EXPECT_THROW(make_self_signed_identity({"a"}, {"leader.cluster"}, std::chrono::hours(1)),
                 LaunchError);
    EXPECT_THROW(make_self_signed_identity({}, {"10.0.0.1"}, std::chrono::hours(1)), LaunchError);
}

}  // namespace
}  // namespace spark_slurm
