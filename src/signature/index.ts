export { type AuthenticodeHashes, authenticodeHashes, type DigestName, imageDigest } from './hashes.js';
export {
  type CertificateInfo,
  readSignature,
  type SignatureInfo,
  type SignatureReport,
  type SignatureResult,
  type TimestampInfo,
} from './signature.js';
