// Just-in-time training: the secure pattern for the problem at hand, as a short Terraform snippet, shown to the
// person who made the change right when it matters. Pure data.
import type { Problem } from "../../rules/types.ts";

/** A problem, or "s3-public" when a Config rule says a bucket is public without saying how. */
export type TrainingTopic = Problem | "s3-public";

export interface Training {
  title: string;
  /** One line of advice above the snippet. */
  advice: string;
  terraform: string;
}

const SG_INGRESS = `resource "aws_vpc_security_group_ingress_rule" "https_from_office" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "203.0.113.0/24" # a range you know: office, VPN
}

resource "aws_vpc_security_group_ingress_rule" "app_from_alb" {
  security_group_id            = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  referenced_security_group_id = aws_security_group.alb.id
}`;

const S3_BLOCK_PUBLIC = `resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced" # ACLs off
  }
}`;

const S3_POLICY_CONDITION = `data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "ReadFromOurOrganizationOnly"
    actions   = ["s3:GetObject"]
    resources = ["\${aws_s3_bucket.this.arn}/*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalOrgID" # or "aws:SourceVpce" with your VPC endpoint id
      values   = ["o-exampleorgid"]
    }
  }
}`;

export const TRAINING: Record<TrainingTopic, Training> = {
  "sg-open-ingress": {
    title: "Secure pattern: ingress from known sources only",
    advice:
      "Open a port to a CIDR you know or to another security group, never to 0.0.0.0/0 or ::/0. For SSH/RDP, prefer SSM Session Manager: no inbound rule at all.",
    terraform: SG_INGRESS,
  },
  "s3-public-acl": {
    title: "Secure pattern: no public ACLs",
    advice: "Turn on all four Block Public Access settings and disable ACLs; grant access with IAM or bucket policies.",
    terraform: S3_BLOCK_PUBLIC,
  },
  "s3-public-policy": {
    title: "Secure pattern: policy statements with a condition",
    advice:
      'Never allow Principal "*" without a condition: limit it to your organization or VPC endpoint. For public websites, serve through CloudFront with origin access control.',
    terraform: S3_POLICY_CONDITION,
  },
  "s3-public": {
    title: "Secure pattern: private buckets",
    advice:
      "Turn on all four Block Public Access settings and disable ACLs. To share, use a policy statement with a condition on aws:PrincipalOrgID or aws:SourceVpce.",
    terraform: S3_BLOCK_PUBLIC,
  },
};
